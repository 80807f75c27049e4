"""Start, stop and inspect the local emulator (MiniStack plus the shim) as a background process.

The emulator listens on https://127.0.0.1:<port> only, evaluates IAM and bucket policies (AUTH=true),
and keeps its world in `state_dir` so a later command sees what an earlier one created:

    state_dir/emulator.pid   {"pid": ..., "port": ...} of the launcher process (a process-group leader)
    state_dir/emulator.log   its stdout and stderr, truncated on every start
    state_dir/ca-bundle.pem  system CA roots + the emulator's certificate (AWS_CA_BUNDLE for clients)
    state_dir/state/         MiniStack service state (PERSIST_STATE), written on a graceful stop and
                             on save() (SIGUSR1: the launcher saves at once; ./inv saves after applies)
    state_dir/saved-at       touched by each save(): when the state was last written
    state_dir/unclean-stop.json  left by start() when the previous emulator died without a stop (its pid
                             file was still there): read and removed by ssepatterns.local_world
    state_dir/s3/            S3 object bodies (S3_PERSIST), written as they arrive
    state_dir/tmp/           TMPDIR: MiniStack's self-signed TLS certificate and its own pid file
"""

from __future__ import annotations

import collections
import contextlib
import functools
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssepatterns.errors import ProjectError
from ssepatterns.paths import EMULATOR_STATE_DIR, REPO_ROOT
from ssepatterns.plumbing import Clients, scrubbed_environ

PORT_ENV_VAR = "SSE_PATTERNS_EMULATOR_PORT"
SAVED_MARKER_ENV_VAR = "SSE_PATTERNS_SAVED_MARKER"  # the launcher touches it after each save
STATE_DIR_ENV_VAR = "SSE_PATTERNS_EMULATOR_STATE_DIR"
DEFAULT_PORT = 4566
HOST = "127.0.0.1"
HEALTH_PATH = "/_ministack/health"  # answered by ministack.app._handle_health_request

# argv after sys.executable; a module constant so tests can substitute a stand-in process.
_LAUNCHER_ARGS: tuple[str, ...] = ("-m", "ssepatterns.emulator.launcher")
# How a process is recognised as our emulator (guards against a recycled pid in a stale pid file).
_LAUNCHER_MARK = "ssepatterns.emulator.launcher"

# Variables never passed to the emulator. MiniStack treats its own AWS_ACCESS_KEY_ID as a root key and
# hands its environment to Lambda workers; its trust_gateway_cert() only *setdefault*s the CA variables,
# so an inherited bundle would keep Lambda workers from trusting the emulator's certificate; and the
# generated certificate is the one ca_bundle trusts, so a bring-your-own certificate must not leak in.
_DROPPED_PREFIXES = ("AWS_",)
_DROPPED_NAMES = frozenset(
    {
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "MINISTACK_SSL_CERT",
        "MINISTACK_SSL_KEY",
    }
)
# The signal on which the launcher writes the emulator's state (see launcher.save_on_signal).
SAVE_SIGNAL = signal.SIGUSR1
_LOG_TAIL_ON_ERROR = 20
_POLL_INTERVAL = 0.2

# Processes started by this Python process, kept so they can be reaped (a dead child stays a zombie,
# which os.kill(pid, 0) still reports as alive) and are not garbage-collected while running.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the emulator listens and keeps its state."""

    port: int = DEFAULT_PORT
    state_dir: Path = EMULATOR_STATE_DIR
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        _check_port(self.port, "emulator port")

    @classmethod
    def from_env(cls) -> EmulatorConfig:
        """Defaults, with the port overridden by SSE_PATTERNS_EMULATOR_PORT and the state folder by
        SSE_PATTERNS_EMULATOR_STATE_DIR when they are set (e.g. a second emulator beside the first)."""
        raw_state_dir = os.environ.get(STATE_DIR_ENV_VAR, "").strip()
        state_dir = Path(raw_state_dir).resolve() if raw_state_dir else EMULATOR_STATE_DIR
        raw = os.environ.get(PORT_ENV_VAR, "").strip()
        if not raw:
            return cls(state_dir=state_dir)
        try:
            port = int(raw)
        except ValueError:
            raise ProjectError(f"{PORT_ENV_VAR} must be an integer from 1024 to 65535, got {raw!r}") from None
        _check_port(port, PORT_ENV_VAR)
        return cls(port=port, state_dir=state_dir)

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        """System CA roots plus the emulator's certificate; written by start()."""
        return self.state_dir / "ca-bundle.pem"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "emulator.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "emulator.log"

    @property
    def saved_marker(self) -> Path:
        return self.state_dir / "saved-at"

    @property
    def unclean_stop_file(self) -> Path:
        return self.state_dir / "unclean-stop.json"

    @property
    def tls_cert(self) -> Path:
        """The self-signed certificate MiniStack generates under $TMPDIR/ministack-tls/."""
        return self.state_dir / "tmp" / "ministack-tls" / "server.crt"


@dataclass(frozen=True)
class EmulatorStatus:
    running: bool
    pid: int | None
    endpoint: str
    healthy: bool
    detail: str


@dataclass(frozen=True)
class _Running:
    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.port}"


def _check_port(port: object, what: str) -> None:
    if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
        raise ProjectError(f"{what} must be an integer from 1024 to 65535, got {port!r}")


# --------------------------------------------------------------------------- public API


def start(cfg: EmulatorConfig, timeout: float = 60) -> str:
    """Start the emulator unless it is already running; return a one-line message."""
    for directory in (cfg.state_dir, cfg.state_dir / "state", cfg.state_dir / "s3", cfg.state_dir / "tmp"):
        directory.mkdir(parents=True, exist_ok=True)
    running = _running(cfg)
    notice = ""
    if running is None and cfg.pid_file.exists():
        notice = "; " + _record_unclean_stop(cfg)
    if running is not None:
        if running.port != cfg.port:
            raise ProjectError(
                f"the emulator is already running on port {running.port} (pid {running.pid}); "
                f"stop it first to move it to port {cfg.port}"
            )
        wait_healthy(cfg, timeout)
        _write_ca_bundle(cfg)
        return f"emulator already running (pid {running.pid}) at {cfg.endpoint}"

    _ensure_port_free(cfg.port)
    with open(cfg.log_file, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, *_LAUNCHER_ARGS],
            cwd=REPO_ROOT,
            env=emulator_env(cfg),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() signals the Lambda workers with it
        )
    _children[proc.pid] = proc
    _write_pid_file(cfg, _Running(proc.pid, cfg.port))
    try:
        _wait_healthy(cfg, timeout, proc)
    except ProjectError:
        _kill_group(proc.pid, signal.SIGKILL)
        _wait_gone(proc.pid, 5)
        cfg.pid_file.unlink(missing_ok=True)
        raise
    _write_ca_bundle(cfg)
    return f"emulator started (pid {proc.pid}) at {cfg.endpoint}; state in {cfg.state_dir}{notice}"


def save(cfg: EmulatorConfig, timeout: float = 20) -> None:
    """Have the running emulator write its state now, as it otherwise does only when it stops, so a
    crash after this loses nothing before it. Waits until the launcher has written it."""
    running = _running(cfg)
    if running is None:
        raise ProjectError(f"the emulator is not running at {cfg.endpoint}: nothing to save")
    before = _mtime(cfg.saved_marker)
    os.kill(running.pid, SAVE_SIGNAL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _mtime(cfg.saved_marker) != before:
            return
        time.sleep(_POLL_INTERVAL / 4)
    raise ProjectError(f"the emulator (pid {running.pid}) did not save its state within {timeout:g}s")


def last_saved(cfg: EmulatorConfig) -> float | None:
    """When the emulator's state was last written (a save() or a graceful stop), as a timestamp."""
    times = [_mtime(path) for path in [cfg.saved_marker, *(cfg.state_dir / "state").glob("*.json")]]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _record_unclean_stop(cfg: EmulatorConfig) -> str:
    """The pid file outlived its process: the emulator died without a stop (killed, crashed, the
    machine went down), so it never wrote its state at the end. Record that for local_world, say so."""
    try:
        pid: int | None = int(json.loads(cfg.pid_file.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        pid = None
    record = {"pid": pid, "started": _mtime(cfg.pid_file), "last_saved": last_saved(cfg)}
    cfg.unclean_stop_file.write_text(json.dumps(record) + "\n")
    cfg.pid_file.unlink(missing_ok=True)
    saved = record["last_saved"]
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(saved)) if saved else "never"
    return f"the previous emulator (pid {pid}) was not stopped cleanly: its state is as last saved ({when})"


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def stop(cfg: EmulatorConfig, timeout: float = 45) -> str:
    """Stop the emulator gracefully (SIGTERM, so MiniStack saves its state), SIGKILL after timeout.

    MiniStack writes service state only on a graceful shutdown, so a kill loses what changed since
    start. A graceful shutdown normally takes well under a second, but each idle keep-alive TLS
    connection held by a still-running client delays it by asyncio's 30 s SSL shutdown timeout;
    hence the 45 s default, and why callers should close their boto3 clients before stopping.
    """
    running = _running(cfg)
    if running is None:
        if cfg.pid_file.exists():  # kept: the next start() must see that the last stop was unclean
            return "emulator is not running (it was not stopped cleanly: the next start says more)"
        return "emulator is not running"
    _kill_group(running.pid, signal.SIGTERM)
    if _wait_gone(running.pid, timeout):
        message = f"emulator stopped (pid {running.pid})"
    else:
        _kill_group(running.pid, signal.SIGKILL)
        _wait_gone(running.pid, 5)
        message = (
            f"emulator did not stop within {timeout:g}s and was killed (pid {running.pid}); "
            "state changes since it started may be lost"
        )
    _kill_group(running.pid, signal.SIGKILL)  # Lambda workers that outlived the emulator, if any
    cfg.pid_file.unlink(missing_ok=True)
    return message


def status(cfg: EmulatorConfig) -> EmulatorStatus:
    running = _running(cfg)
    if running is None:
        return EmulatorStatus(False, None, cfg.endpoint, False, "not running")
    healthy, detail = _probe_health(cfg, running.port)
    if running.port != cfg.port:
        detail += f"; running on port {running.port}, not the configured {cfg.port}"
    return EmulatorStatus(True, running.pid, running.endpoint, healthy, detail)


def logs(cfg: EmulatorConfig, lines: int = 100) -> str:
    """The last `lines` lines of the emulator log."""
    if not cfg.log_file.exists():
        raise ProjectError(f"no emulator log at {cfg.log_file}; the emulator has not been started here")
    return "".join(_tail(cfg.log_file, lines))


def client_env(cfg: EmulatorConfig) -> dict[str, str]:
    """Variables that point a boto3 client or a terraform process at the emulator, as its root user.

    Only these keys are returned; merge them over the caller's environment.
    """
    return {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": cfg.region,
        "AWS_DEFAULT_REGION": cfg.region,
        "AWS_ENDPOINT_URL": cfg.endpoint,
        "AWS_CA_BUNDLE": str(cfg.ca_bundle),
    }


def client(
    cfg: EmulatorConfig,
    service: str,
    credentials: Mapping[str, str] | None = None,
    region: str | None = None,
    **options: Any,
) -> Any:
    """A boto3 client of `service` on the emulator, trusting its CA bundle: as `credentials`
    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for a session, AWS_SESSION_TOKEN; default the
    emulator's root, as client_env), in `region` (default the emulator's); `options` go to client().

    Close it before the emulator stops, or take it from clients(), which does (see plumbing.Clients)."""
    import boto3

    creds = client_env(cfg) if credentials is None else credentials
    session = boto3.session.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds.get("AWS_SESSION_TOKEN"),
        region_name=region or cfg.region,
    )
    return session.client(service, endpoint_url=cfg.endpoint, verify=str(cfg.ca_bundle), **options)


def clients(cfg: EmulatorConfig, region: str | None = None) -> Clients:
    """A factory of emulator clients (`clients(service, credentials=None, **options)`, as client() in
    `region`) that closes every one it made at close() or at the end of a `with` block."""
    return Clients(functools.partial(client, cfg, region=region))


def wait_healthy(cfg: EmulatorConfig, timeout: float) -> None:
    """Return once the running emulator answers its health check; ProjectError otherwise."""
    _wait_healthy(cfg, timeout, None)


def emulator_env(cfg: EmulatorConfig, base: dict[str, str] | None = None) -> dict[str, str]:
    """The emulator process's environment: `base` (default os.environ) sanitised, plus its settings."""
    env = scrubbed_environ(_DROPPED_PREFIXES, _DROPPED_NAMES, base)
    env.update(
        {
            "GATEWAY_PORT": str(cfg.port),
            "BIND_HOST": HOST,
            "AUTH": "true",  # evaluate IAM identity policies and bucket policies
            "USE_SSL": "1",  # HTTPS, so aws:SecureTransport is true as the bucket policies require
            "PERSIST_STATE": "1",
            "STATE_DIR": str(cfg.state_dir / "state"),
            "S3_PERSIST": "1",
            "S3_DATA_DIR": str(cfg.state_dir / "s3"),
            "TMPDIR": str(cfg.state_dir / "tmp"),
            "MINISTACK_REGION": cfg.region,
            "LOG_LEVEL": "INFO",
            "LAMBDA_EXECUTOR": "local",  # Python handlers as subprocesses of the emulator; no Docker
            "IOT_MTLS_ENABLED": "0",  # otherwise an IoT listener binds 0.0.0.0:8883 when it can
            "PYTHONUNBUFFERED": "1",  # the log file shows progress as it happens
            SAVED_MARKER_ENV_VAR: str(cfg.saved_marker),
        }
    )
    return env


# --------------------------------------------------------------------------- process bookkeeping


def _running(cfg: EmulatorConfig) -> _Running | None:
    """The emulator recorded in the pid file, if it is alive. A stale (or unreadable) pid file is
    left in place: it is the sign of an unclean stop, which start() records and then removes."""
    try:
        record = json.loads(cfg.pid_file.read_text())
        running = _Running(int(record["pid"]), int(record["port"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _is_our_emulator(running.pid):
        return None
    return running


def _write_pid_file(cfg: EmulatorConfig, running: _Running) -> None:
    cfg.pid_file.write_text(json.dumps({"pid": running.pid, "port": running.port}) + "\n")


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:  # poll() reaps our own exited child
        del _children[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rpartition(")")[2].split()[0] != "Z"  # a zombie has exited


def _is_our_emulator(pid: int) -> bool:
    """Alive and, where /proc can tell, running our launcher (not a process that reused the pid)."""
    if not _alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # gone, or a system without /proc
    except OSError:
        return True
    return _LAUNCHER_MARK in cmdline


def _kill_group(pid: int, sig: signal.Signals) -> None:
    """Signal the emulator's process group (it is the group leader: start_new_session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL)
    return True


def _ensure_port_free(port: int) -> None:
    """Fail early, with a useful message, when something else holds the port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a port whose old connections sit in TIME_WAIT is free; a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise ProjectError(
                f"port {port} on {HOST} is in use by another process; "
                f"stop it or set {PORT_ENV_VAR} to a free port"
            ) from None


# --------------------------------------------------------------------------- health and TLS


def _probe_health(cfg: EmulatorConfig, port: int) -> tuple[bool, str]:
    """(healthy, detail) from MiniStack's health endpoint, verified against the emulator's own cert."""
    if not cfg.tls_cert.exists():
        return False, "no TLS certificate yet"
    url = f"https://{HOST}:{port}{HEALTH_PATH}"
    try:
        context = ssl.create_default_context(cafile=str(cfg.tls_cert))
        # No proxies: a proxy from the user's environment must not answer for 127.0.0.1.
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        with opener.open(url, timeout=3) as response:
            body = json.loads(response.read())
    except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, SSLError are OSErrors
        return False, f"health check failed: {getattr(exc, 'reason', exc)}"
    if not isinstance(body, dict) or "services" not in body:
        return False, "health endpoint answered without a service list"
    if body.get("auth") != "enabled":
        return False, "the emulator answers but runs without AUTH; restart it"
    return True, f"healthy (ministack {body.get('version', '?')}, {len(body['services'])} services)"


def _wait_healthy(cfg: EmulatorConfig, timeout: float, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + timeout
    detail = "not checked"
    while True:
        if proc is not None:
            code = proc.poll()
            if code is not None:
                raise ProjectError(
                    f"the emulator exited during start-up (exit code {code}); last lines of "
                    f"{cfg.log_file}:\n{''.join(_tail(cfg.log_file, _LOG_TAIL_ON_ERROR)).rstrip()}"
                )
        elif _running(cfg) is None:
            raise ProjectError(f"the emulator is not running; see {cfg.log_file}")
        healthy, detail = _probe_health(cfg, cfg.port)
        if healthy:
            return
        if time.monotonic() >= deadline:
            raise ProjectError(
                f"the emulator did not become healthy within {timeout:g}s at {cfg.endpoint} ({detail}); "
                f"last lines of {cfg.log_file}:\n"
                f"{''.join(_tail(cfg.log_file, _LOG_TAIL_ON_ERROR)).rstrip()}"
            )
        time.sleep(_POLL_INTERVAL)


def _write_ca_bundle(cfg: EmulatorConfig) -> None:
    """System roots + the emulator cert: AWS_CA_BUNDLE replaces the trust store (Go SDK, botocore)."""
    parts = []
    system_roots = _system_roots(cfg.ca_bundle)
    if system_roots is not None:
        parts.append(system_roots.read_bytes().rstrip(b"\n") + b"\n")
    parts.append(cfg.tls_cert.read_bytes())
    staging = cfg.ca_bundle.with_suffix(".pem.tmp")
    staging.write_bytes(b"".join(parts))
    os.replace(staging, cfg.ca_bundle)


def _system_roots(own_bundle: Path) -> Path | None:
    """The system CA file, never our own bundle (SSL_CERT_FILE might point at it)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file() and Path(candidate).resolve() != own_bundle.resolve():
            return Path(candidate)
    return None


def _tail(path: Path, lines: int) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return list(collections.deque(handle, maxlen=max(lines, 0)))
    except FileNotFoundError:
        return []


def free_port() -> int:
    """A port on the loopback address that nothing listens on now (for a throwaway emulator)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
