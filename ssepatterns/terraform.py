"""The one place that runs `terraform`: a thin adapter over python-terraform 0.10.1.

python-terraform builds each command line (flag spelling, a `var` dict written to a temporary 0600
.tfvars.json so values survive any character and never show on the command line or in `ps`); this module
runs the process itself, because the library cannot stream and capture at once nor take a per-call env.
One consequence of the var file: a misspelt variable name is only a warning ("Value for undeclared
variable"), where -var would fail; it is shown live, but the plan goes on with the default value.

python-terraform quirks, each checked against Terraform 1.11.4, and what we do about them:

1. plan() always adds -detailed-exitcode (rc 2 = "has changes"). Kept on purpose: rc 0/2 -> False/True,
   anything else -> ProjectError.
2. apply() always sends -auto-approve=<skip_plan>, i.e. -auto-approve=false: without a plan file Terraform
   asks for "yes" ("error asking for approval: EOF" with no stdin). We apply saved plans only, through
   cmd("apply", PLAN), which sends no -auto-approve at all.
3. destroy() always sends -force, removed in Terraform 0.15 ("flag provided but not defined"). Not used:
   our destroy() is cmd("destroy", -auto-approve).
4. output(NAME) reads value["value"], but Terraform >= 0.14 prints the bare value: TypeError (strings,
   lists) or KeyError (maps). It also returns None on failure, dropping stderr. We call output() without a
   name (all outputs) and our runner raises on failure first.
5. cmd(synchronous=False) pops the option after building the argv, so terraform gets -synchronous=false.
   Never passed.
6. capture_output=True captures silently; anything else hands sys.stdout/sys.stderr to Popen (needs a real
   fd: io.UnsupportedOperation under pytest or a redirected stdout) and returns no output, so failures
   have no stderr to report. -> cmd() is overridden with a runner that tees output live and captures it.
7. Environment: is_env_vars_included=True copies os.environ, False gives terraform an EMPTY env (no PATH:
   terraform itself is not found); there is no per-call env. -> the runner builds a child env per call
   (os.environ + `env` + TF_IN_AUTOMATION/CHECKPOINT_DISABLE, minus a TF_CLI_CONFIG_FILE that does not
   exist) and never touches os.environ.
8. init/plan/apply/destroy add -var-file=<temp file "{}"> even with no variables (the default {} is a
   dict). We pass var=None then.
9. VariableFiles logs the variable VALUES at DEBUG and is cleaned up only after a normal run (leaks, with
   the values, when Popen raises). -> the library logger is capped at INFO; cleanup runs in `finally`.
10. -input=false / -no-color are defaults of init/plan/apply/destroy only, not of cmd(); we pass them
    explicitly everywhere they are accepted (validate, show, output, fmt reject -input).
11. init() adds -reconfigure and -backend=true: -reconfigure silently drops the recorded backend (no state
    migration). Neutralised, so a changed backend makes init fail loudly instead.
12. The constructor and every successful cmd() json-load terraform.tfstate (secrets kept in memory,
    JSONDecodeError on a truncated state). read_state_file is a no-op here.
13. __getattr__ turns any unknown attribute into a subcommand (tf.valdate() runs `terraform valdate`);
    we call cmd("validate") explicitly. Instance-wide var_file/state/targets defaults are left unset.
14. A missing binary (or working dir) surfaces as a bare FileNotFoundError. -> ProjectError.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import python_terraform
from python_terraform import IsFlagged, IsNotFlagged

from ssepatterns import hcl
from ssepatterns.errors import ProjectError
from ssepatterns.plumbing import tee
from ssepatterns.provider_mirror import terraform_platform

INSTALL_URL = "https://developer.hashicorp.com/terraform/install"
INIT_STAMP = "ssepatterns-init.json"  # written into .terraform/ after a successful init()

# Quirk 9: python-terraform logs -var values (possibly secrets) at DEBUG.
logging.getLogger("python_terraform").setLevel(logging.INFO)

Runner = Callable[..., tuple[int, str, str]]


class TerraformError(ProjectError):
    """A terraform command failed. The message holds the useful tail; `output` all of it."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


class StateLocked(TerraformError):
    """Another run holds the state lock: one line saying who, since when, and the lock id."""

    def __init__(self, name: str, output: str, unlock_command: str | None = None) -> None:
        info = dict(_LOCK_INFO.findall(output))
        lock_id = info.get("ID")
        if unlock_command and lock_id:
            advice = (
                "wait for that run to finish; if it was killed (the lock outlived it), release the lock: "
                + unlock_command.format(lock_id=lock_id)
            )
        else:
            advice = "wait for it to finish and try again"
        super().__init__(
            f"{name}: the state {info.get('Path', '?')} is locked by {info.get('Who', '?')} "
            f"({_LOCK_OPERATIONS.get(info.get('Operation', ''), info.get('Operation', '?'))} since "
            f"{info.get('Created', '?')}, lock id {lock_id or '?'}): {advice}",
            output,
        )
        self.lock_id = lock_id
        self.created = info.get("Created")


# Terraform's "Lock Info:" block, e.g. "  ID:        4c3e…" / "  Who:       user@host".
_LOCK_INFO = re.compile(r"^\s+(ID|Path|Operation|Who|Version|Created):\s+(.*?)\s*$", re.MULTILINE)
_LOCK_OPERATIONS = {"OperationTypePlan": "plan", "OperationTypeApply": "apply", "OperationTypeInvalid": "?"}


# python-terraform ships no types (and has no stubs), so its Terraform class is Any to mypy.
class _PythonTerraform(python_terraform.Terraform):  # type: ignore[misc]
    """python-terraform building the argv, with `runner` in place of its own Popen call."""

    def __init__(self, workdir: Path, runner: Runner) -> None:
        self._runner = runner
        super().__init__(working_dir=str(workdir))

    def read_state_file(self, file_path: str | None = None) -> None:  # quirk 12
        self.tfstate = None

    def cmd(self, cmd: str, *args: str, **kwargs: Any) -> tuple[int, str, str]:
        # Our own options ride along like the library's capture_output: popped before argv is built.
        run_options = {key: kwargs.pop(key) for key in ("ok_codes", "stream") if key in kwargs}
        try:
            argv = self.generate_cmd_string(cmd, *args, **kwargs)
            return self._runner(argv, **run_options)
        finally:
            self.temp_var_files.clean_up()


class Terraform:
    """Runs terraform in `workdir` with `env` layered over os.environ; echoes and streams when `echo`."""

    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        echo: bool = True,
        data_dir: Path | None = None,
        unlock_command: str | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.env = dict(env or {})
        self.echo = echo
        # TF_DATA_DIR: one per region of the aws env, so each keeps its own backend key and no region
        # re-initialises another's; None is the root's own .terraform.
        self.data_dir = Path(data_dir).absolute() if data_dir else None
        # How the user releases a lock a killed run left ("{lock_id}" filled in): said by StateLocked.
        self.unlock_command = unlock_command
        self._tf = _PythonTerraform(self.workdir, self._run)
        self._version: tuple[int, int, int] | None = None
        self.last_stdout = ""  # of the last command: a plan's summary line, for reports

    def version(self) -> tuple[int, int, int]:
        """Terraform's version from `terraform version -json` (cached: every call costs a process)."""
        if self._version is None:
            _, out, _ = self._tf.cmd("version", json=IsFlagged, stream=False)
            try:
                text = str(json.loads(out)["terraform_version"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ProjectError(
                    f"could not read the version from `terraform version -json`: {exc!r}"
                ) from exc
            match = re.match(r"(\d+)\.(\d+)\.(\d+)", text)  # also "1.12.0-beta1"
            if match is None:
                raise ProjectError(f"unexpected Terraform version {text!r} from `terraform version -json`")
            self._version = (int(match[1]), int(match[2]), int(match[3]))
        return self._version

    def require_version(self, minimum: Sequence[int] = (1, 11, 0)) -> None:
        found = self.version()
        if found < tuple(minimum):
            raise ProjectError(
                f"Terraform {_dotted(minimum)} or newer is required (found {_dotted(found)}): write-only "
                f"arguments need it; install it from {INSTALL_URL}"
            )

    @property
    def dot_dir(self) -> Path:
        """Terraform's data folder for this root: TF_DATA_DIR, or .terraform in workdir."""
        return self.data_dir or self.workdir / ".terraform"

    def init(
        self,
        plugin_dir: Path | None = None,
        backend_config: Sequence[str] = (),
        backend: bool = True,
        reconfigure: bool = False,
    ) -> None:
        """`terraform init`, offline from `plugin_dir` if given; never rewrites .terraform.lock.hcl.

        backend_config: -backend-config values (a settings file, key=value); backend=False skips the
        backend (validate needs none); reconfigure: adopt a changed backend without migrating state
        (only for a data folder whose backend is known to be new)."""
        stamp = self.dot_dir / INIT_STAMP
        stamp.unlink(missing_ok=True)  # a failed init must leave needs_init() True
        self._tf.init(
            backend_config=list(backend_config) or None,
            reconfigure=IsFlagged if reconfigure else IsNotFlagged,  # quirk 11
            backend=None if backend else False,
            var=None,  # quirk 8
            input=False,
            no_color=IsFlagged,
            plugin_dir=str(Path(plugin_dir).absolute()) if plugin_dir else None,
            lockfile="readonly",
        )
        stamp.parent.mkdir(parents=True, exist_ok=True)  # a config without providers gets no .terraform
        fingerprint = self._init_fingerprint(backend_config, backend)
        stamp.write_text(json.dumps(fingerprint, indent=1) + "\n", encoding="utf-8")

    def needs_init(self, backend_config: Sequence[str] = (), backend: bool = True) -> bool:
        """True unless the last init() is known to still fit the lock file and the module calls.

        Only cheap file reads, no terraform process. Current means all of:
        - .terraform/ssepatterns-init.json exists (written by init() after it succeeds, removed before it
          starts; an init run by hand or by another tool does not count);
        - it records the same sha256 of .terraform.lock.hcl (content, not mtime: checkouts touch mtimes
          without changing content) and the same module calls (key, source, version) as the *.tf files
          declare now, following local ("./", "../") module sources recursively;
        - every provider version in the lock file is installed for this platform under
          .terraform/providers (a broken symlink into a removed mirror counts as missing);
        - every declared module is in .terraform/modules/modules.json and its directory exists.
        - it records the same backend settings (-backend-config values, a settings file by its content).
        Not detected: a changed `version` constraint that still resolves the same; run init explicitly.
        Module calls are read with python-hcl2 (ssepatterns.hcl); a file it cannot read only costs an
        extra init.
        """
        dot = self.dot_dir
        try:
            stamp = json.loads((dot / INIT_STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return True
        fingerprint = self._init_fingerprint(backend_config, backend)
        if stamp != fingerprint:
            return True
        platform_name = terraform_platform()
        lock = self.workdir / ".terraform.lock.hcl"
        locked = _LOCKED_PROVIDER.findall(lock.read_text(encoding="utf-8")) if lock.is_file() else []
        if any(
            not (dot / "providers" / address / version / platform_name).exists()
            for address, version in locked
        ):
            return True
        try:
            manifest = json.loads((dot / "modules" / "modules.json").read_text(encoding="utf-8"))
            installed = {module["Key"]: module["Dir"] for module in manifest["Modules"]}
        except (OSError, ValueError, KeyError, TypeError):
            installed = {}
        return any(
            key not in installed or not (self.workdir / installed[key]).is_dir()
            for key, _, _ in fingerprint["modules"]
        )

    def validate(self) -> None:
        self._tf.cmd("validate", no_color=IsFlagged)

    def plan(
        self,
        out: Path,
        variables: Mapping[str, Any] | None = None,
        var_files: Sequence[Path] = (),
        lock_timeout: str | None = None,
        replace: Sequence[str] = (),
    ) -> bool:
        """Save a plan to `out`; True if it has changes (from -detailed-exitcode: 0 none, 2 changes).
        `replace`: resource addresses planned for replacement (one -replace=<address> each)."""
        out = Path(out).absolute()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)  # a failed plan must not leave an older plan behind to be applied
        # cmd("plan"), not self._tf.plan(): its defaults put -var before -var-file (see var_file below).
        rc, _, _ = self._tf.cmd(
            "plan",
            out=str(out),
            # The user's files first, ./inv's values (resolved from them and the options) last: they win.
            var_file=[str(Path(path).absolute()) for path in var_files] or None,
            var=dict(variables) if variables else None,
            lock_timeout=lock_timeout,
            replace=list(replace) or None,
            input=False,
            no_color=IsFlagged,
            detailed_exitcode=IsFlagged,
            ok_codes=(0, 2),
        )
        return rc == 2

    def apply(self, plan_file: Path, variables: Mapping[str, str] | None = None) -> None:
        """Apply a saved plan. `variables`: only ephemeral ones, which a saved plan does not keep and
        Terraform wants again at apply ("must also be set during the apply phase"); it rejects others."""
        plan_file = Path(plan_file).absolute()
        if not plan_file.is_file():
            raise ProjectError(f"saved plan {plan_file} not found; run the plan step first")
        self._tf.cmd(  # not self._tf.apply(): quirk 2
            "apply",
            str(plan_file),
            input=False,
            no_color=IsFlagged,
            var=dict(variables) if variables else None,
        )

    def destroy(self, variables: Mapping[str, Any] | None = None, var_files: Sequence[Path] = ()) -> None:
        """Destroy everything in one command (one provider start fewer than plan -destroy + apply).

        Not self._tf.destroy(), which sends -force (removed in Terraform 1.x): quirk 3.
        """
        self._tf.cmd(
            "destroy",
            auto_approve=IsFlagged,
            input=False,
            no_color=IsFlagged,
            var_file=[str(Path(path).absolute()) for path in var_files] or None,
            var=dict(variables) if variables else None,
        )

    def apply_now(self, variables: Mapping[str, Any] | None = None) -> None:
        """`apply -auto-approve` without a saved plan: for a bootstrap whose only approval is the task
        itself (the state bucket's first apply). Not self._tf.apply(): quirk 2."""
        self._tf.cmd(
            "apply",
            auto_approve=IsFlagged,
            input=False,
            no_color=IsFlagged,
            var=dict(variables) if variables else None,
        )

    def planned_changes(self) -> int:
        """How many resources the last plan would add, change or destroy (its "Plan:" line)."""
        match = _PLAN_LINE.search(self.last_stdout)
        return sum(int(group) for group in match.groups()) if match else 0

    @contextlib.contextmanager
    def holding_state_lock(
        self,
        variables: Mapping[str, Any] | None = None,
        var_files: Sequence[Path] = (),
        timeout: float = 120,
        killed: bool = False,
    ) -> Iterator[None]:
        """Hold the state lock for the duration of the block: an interactive `terraform destroy` that
        has taken the lock and waits at its confirmation prompt, answered "no" afterwards, or with
        `killed`, SIGKILLed (so the lock outlives it, as a killed run's does).

        For the rehearsal's lock checks only: nothing is destroyed (Terraform destroys on "yes" alone).
        """
        argv = self._tf.generate_cmd_string(
            "destroy",
            no_color=IsFlagged,
            var_file=[str(Path(path).absolute()) for path in var_files] or None,
            var=dict(variables) if variables else None,
        )
        executable = shutil.which(argv[0], path=self._child_env().get("PATH", os.defpath))
        if executable is None:
            raise ProjectError("terraform not found on PATH")
        try:
            proc = subprocess.Popen(
                [executable, *argv[1:]],
                cwd=self.workdir,
                env=self._child_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        except OSError:
            self._tf.temp_var_files.clean_up()
            raise
        assert proc.stdin is not None and proc.stdout is not None
        seen: list[str] = []
        prompted = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            while chunk := proc.stdout.read(1):
                seen.append(chunk)
                if "Enter a value:" in "".join(seen[-40:]):
                    prompted.set()
            prompted.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if not prompted.wait(timeout) or proc.poll() is not None:
                raise ProjectError(f"terraform destroy did not reach its prompt:\n{_tail(''.join(seen))}")
            yield
        finally:
            if killed:
                proc.kill()
            with contextlib.suppress(OSError):
                proc.stdin.write("no\n")
                proc.stdin.close()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)
            self._tf.temp_var_files.clean_up()  # only now: terraform reads the var file as it starts

    def force_unlock(self, lock_id: str) -> None:
        """`terraform force-unlock -force <id>`: release a lock a killed run left (the caller checks)."""
        self._tf.cmd("force-unlock", lock_id, force=IsFlagged, no_color=IsFlagged)

    def state_pull(self) -> str:
        """The current state as JSON text, from whichever backend holds it. Never echoed: it is the state."""
        _, out, _ = self._tf.cmd("state pull", stream=False)
        return out

    def state_push(self, state_file: Path) -> None:
        """Write a state file into the configured backend (a new, empty one: no -force)."""
        self._tf.cmd("state push", str(Path(state_file).absolute()), stream=False)

    def outputs(self) -> dict[str, Any]:
        """Root module outputs as {name: value} (sensitive ones included: do not print them blindly)."""
        try:
            raw = self._tf.output(no_color=IsFlagged, stream=False)
            return {name: item["value"] for name, item in raw.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProjectError(
                f"could not parse `terraform output -json` in {self.workdir}: {exc!r}"
            ) from exc

    def fmt_check(self, recursive: bool = True) -> list[str]:
        """Files (relative to workdir) that `terraform fmt` would change; fmt exits 3 when there are some."""
        _, out, _ = self._tf.cmd(
            "fmt",
            check=IsFlagged,
            list=True,
            recursive=IsFlagged if recursive else None,
            no_color=IsFlagged,
            ok_codes=(0, 3),
            stream=False,
        )
        return [line.strip() for line in out.splitlines() if line.strip()]

    # -- internals ---------------------------------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = {**os.environ, **self.env, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        env.pop("TF_DATA_DIR", None)  # only ours: a user's would mix the data of several roots
        if self.data_dir is not None:
            env["TF_DATA_DIR"] = str(self.data_dir)
        config = env.get("TF_CLI_CONFIG_FILE")
        # Terraform resolves a relative path against its cwd; a missing file only makes it warn every time.
        if config is not None and not (self.workdir / config).is_file():
            del env["TF_CLI_CONFIG_FILE"]
        return env

    def _run(
        self, argv: list[str], ok_codes: Sequence[int] = (0,), stream: bool = True
    ) -> tuple[int, str, str]:
        """Run argv in workdir; echo it and its elapsed time, tee its output, raise unless rc in ok_codes.

        stream=False keeps stdout (machine-readable JSON, file lists) off the terminal; stderr is always
        shown live when echoing.
        """
        name = f"terraform {argv[1]}"
        if not self.workdir.is_dir():
            raise ProjectError(f"cannot run {name}: directory {self.workdir} does not exist")
        env = self._child_env()
        executable = shutil.which(argv[0], path=env.get("PATH", os.defpath))
        if executable is None:
            raise ProjectError(
                f"terraform not found on PATH; install Terraform >= 1.11 from {INSTALL_URL} "
                "and make sure `terraform` is on PATH"
            )
        if self.echo:
            print(f"$ {shlex.join(['terraform', *argv[1:]])}", flush=True)
        started = time.monotonic()
        try:
            teed = tee(
                [executable, *argv[1:]],
                cwd=self.workdir,
                env=env,
                show_stdout=self.echo and stream,
                show_stderr=self.echo,
            )
        except KeyboardInterrupt:
            # Terraform got the same SIGINT and stopped gracefully (state lock, partial state): tee let it.
            raise ProjectError(f"{name} interrupted") from None
        rc = teed.returncode
        if self.echo:
            print(f"  ({time.monotonic() - started:.1f}s, exit {rc})", flush=True)
        stdout, stderr = teed.stdout, teed.stderr
        self.last_stdout = stdout
        if rc not in ok_codes:
            if "Error acquiring the state lock" in stderr:
                raise StateLocked(name, stderr, self.unlock_command)
            tail = _tail(stderr or stdout)
            raise TerraformError(
                f"{name} failed (exit {rc}) in {self.workdir}" + (f":\n{tail}" if tail else ""),
                output=stderr or stdout,
            )
        return rc, stdout, stderr

    def _init_fingerprint(self, backend_config: Sequence[str] = (), backend: bool = True) -> dict[str, Any]:
        """What init() depended on: the lock file's content, the module calls and the backend settings."""
        lock = self.workdir / ".terraform.lock.hcl"
        return {
            "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
            "modules": sorted([list(call) for call in _module_calls(self.workdir)]),
            "backend": [_config_fingerprint(item) for item in backend_config] if backend else None,
        }


_PLAN_LINE = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
_LOCKED_PROVIDER = re.compile(r'^provider\s+"([^"]+)"\s*\{[^}]*?\bversion\s*=\s*"([^"]+)"', re.MULTILINE)


def _module_calls(directory: Path, prefix: str = "", depth: int = 0) -> list[tuple[str, str, str]]:
    """(key, source, version) of every module call, keys as in modules.json ("a", "a.b").

    A .tf file python-hcl2 cannot read counts as a call that is never installed ("?<file>"), so
    needs_init() stays True and terraform init itself says what is wrong with the file."""
    calls: list[tuple[str, str, str]] = []
    for tf_file in sorted(directory.glob("*.tf")):
        try:
            blocks = hcl.read(tf_file)
        except (hcl.HclError, OSError, UnicodeDecodeError):
            calls.append((f"?{tf_file}", "", ""))
            continue
        for block in blocks:
            if block.type != "module" or len(block.labels) != 1:
                continue
            source, version = _literal(block, "source"), _literal(block, "version")
            key = prefix + block.labels[0]
            calls.append((key, source, version))
            if source.startswith(("./", "../")) and depth < 20:  # depth: a module cycle must not hang us
                calls += _module_calls(directory / source, f"{key}.", depth + 1)
    return calls


def _literal(block: hcl.Block, name: str) -> str:
    """The value of the block's string attribute `name`; "" when it is absent or not a literal."""
    attribute = block.attributes.get(name)
    value = attribute.value if attribute is not None else None
    return value or ""


def _config_fingerprint(item: str) -> str:
    """A -backend-config value as init saw it: a settings file by its content, key=value as given."""
    path = Path(item)
    if "=" not in item and path.is_file():
        return f"file:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    return item


def _tail(text: str, limit: int = 25) -> str:
    """The useful part of terraform's output: from the first "Error:" on, else the last lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    first_error = next((i for i, line in enumerate(lines) if line.startswith("Error:")), None)
    lines = lines[first_error : first_error + limit] if first_error is not None else lines[-limit:]
    return "\n".join(lines)


def _dotted(version: Sequence[int]) -> str:
    return ".".join(str(part) for part in version)
