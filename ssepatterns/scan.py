"""The policy scan behind `./inv scan`, checkov over terraform/, and `scan_plan`, checkov over a plan (the
plan suite runs it on every plan it makes); both counted from checkov's own JSON report.

checkov runs from its own virtualenv (.venv-checkov, made by ./inv: its botocore pin conflicts with
MiniStack's), so it is a subprocess. The terminal gets checkov's compact list of failures and one summary
line; the counts come from the JSON report (never from the text); the JUnit XML goes where the caller says.

The rules the scan enforces, so that its counts mean what they say:

- A finding is either fixed or skipped inline, in the resource block, with a one-line reason
  (`#checkov:skip=CKV_...:why`). There is no --skip-check and no config file: a `.checkov.yaml` that
  checkov would pick up on its own, or a CKV_*/BC_* variable in the caller's environment (CKV_SKIP_CHECK
  is one), could switch checks off globally, so the first is refused and the second dropped. A skip
  without a reason fails the scan.
- Offline: --skip-download stops the Prisma Cloud/Bridgecrew calls (guidelines and check-id mapping,
  platform run configuration), CKV_SKIP_PACKAGE_UPDATE_CHECK the PyPI version check checkov makes when
  it is imported, --download-external-modules false any module download, and no API key means no upload.
- Modules: checkov evaluates a folder that a configuration calls as a module (`source = "../x"`) through
  its callers only, with the inputs it can resolve (one result per for_each instance, where it can expand
  the for_each: see the last rule), never as a root of its own. Both envs call the same modules; checkov
  drops records that are identical (same check, file, lines and resource address), so a result the two
  envs share is counted once, and one that differs between them (a pass in one, a failure in the other) is
  reported as both. An inline skip in a module applies to every instance of the resource, in both envs;
  checkov 3.3.30 does not deduplicate skips, so the skipped count (as in its own summary and the JUnit
  file) has the skips of per-resource checks in modules once per env.
- A file checkov cannot parse is only counted by checkov (its checks silently do not run): it fails here.
- checkov's own evaluation of the configuration expands a module's for_each only when it is a literal map:
  the buckets of the pattern registry (module calls over maps computed from `local.patterns`) are checked
  once each call, with their inputs unresolved. `scan_plan` checks a plan instead (the plan suite runs it
  on each env's plan, with and without the engine, and each example's): every resource instance with its
  planned values, the inline skips read from the configuration. There, a resource instance checkov did not
  check while it checked others of its type fails the scan, so a gap in what it evaluates cannot pass as a
  clean result.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssepatterns.errors import ProjectError
from ssepatterns.paths import REPO_ROOT, TERRAFORM_DIR
from ssepatterns.plumbing import scrubbed_environ

# Environment variables checkov reads its options and platform settings from (CKV_SKIP_CHECK, CKV_CHECK,
# BC_API_KEY, PRISMA_API_URL, ...): the caller's are dropped, the scan sets its own.
_CHECKOV_ENV_PREFIXES = ("CKV_", "CHECKOV_", "BC_", "PRISMA_")
_OFFLINE_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}
# checkov's text for a `#checkov:skip=CKV_...` without a `:reason` (checkov/common/util/suppression.py).
_NO_REASON = "No comment provided"
_CHECK_ID = re.compile(r"\[(CKV2?_[A-Z0-9_]+)\]")


@dataclass(frozen=True)
class Finding:
    """A failed check, located where a fix or an inline skip would go."""

    check_id: str
    check_name: str
    resource: str  # the address, with the module path for resources inside modules
    file: str  # relative to the repository
    first_line: int
    last_line: int

    def __str__(self) -> str:
        return f"{self.check_id} {self.resource} ({self.file}:{self.first_line}-{self.last_line})"


@dataclass(frozen=True)
class ScanResult:
    passed: int
    failed: int
    skipped: int
    failures: tuple[Finding, ...] = ()

    @property
    def summary(self) -> str:
        return f"checkov: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"


class ScanFailed(ProjectError):
    """The scan ran and found failed checks (or reasonless skips); the result is attached for callers."""

    def __init__(self, message: str, result: ScanResult) -> None:
        super().__init__(message)
        self.result = result


def checkov_executable() -> Path:
    return REPO_ROOT / ".venv-checkov" / "bin" / "checkov"


def run_scan(junit_path: Path) -> ScanResult:
    """Scan TERRAFORM_DIR, print checkov's failures and the summary line, write JUnit XML to junit_path.

    Raises ProjectError when checkov is missing or cannot do its job, and ScanFailed (a ProjectError)
    naming every failed check, and every inline skip without a reason, when there are any.
    """
    if "," in str(junit_path):
        raise ProjectError(f"the JUnit path must not contain a comma (checkov splits on it): {junit_path}")
    junit_path.parent.mkdir(parents=True, exist_ok=True)
    arguments = ["--directory", str(TERRAFORM_DIR), "--framework", "terraform", "--quiet"]
    report = _run(arguments, junit_path=junit_path)
    (scanned,) = _reports(report, "terraform", str(TERRAFORM_DIR))
    result = _read_report(scanned, str(TERRAFORM_DIR))

    print(result.summary, flush=True)
    problems = [f"failed: {finding}" for finding in result.failures]
    problems += [f"skipped without a reason: {skip}" for skip in _skips_without_reason(junit_path)]
    if problems:
        raise ScanFailed(
            "checkov: fix each finding, or skip it inline in the resource block with "
            "`#checkov:skip=<check id>:<one-line reason>`:\n  " + "\n  ".join(problems),
            result,
        )
    return result


def scan_plan(plan_json: Path, root_module: Path) -> ScanResult:
    """checkov over one plan (`terraform show -json`) of the root module in `root_module`, quietly.

    Returns the result, or raises ScanFailed naming every failed check, inline skip without a reason,
    resource instance left unchecked, and resource whose source checkov took from another module's file
    (it finds a resource's source, and so its inline skips, by type and name alone).
    """
    root = os.path.relpath(root_module, REPO_ROOT)
    arguments = ["--file", str(plan_json), "--framework", "terraform_plan"]
    report = _run([*arguments, "--repo-root-for-plan-enrichment", str(REPO_ROOT)], quiet=True)
    (scanned,) = _reports(report, "terraform_plan", str(plan_json))
    result = _read_report(scanned, str(plan_json))
    records = scanned["results"]
    problems = [f"failed: {finding}" for finding in result.failures]
    problems += [
        f"skipped without a reason: {skip}"
        for skip in sorted(
            {
                f"{record['check_id']} in {_configuration_file(record)}"
                for record in records["skipped_checks"]
                if record["check_result"].get("suppress_comment", "").strip() == _NO_REASON
            }
        )
    ]
    plan = json.loads(plan_json.read_text())
    problems += [
        f"not checked: {address} (checkov checked other {kind} resources)"
        for address, kind in _unchecked(plan, records)
    ]
    problems += [
        f"read from another module's file: {address} is in {folder}, checkov took {file} (rename one)"
        for address, folder, file in _misplaced(plan, records, root)
    ]
    if problems:
        raise ScanFailed(f"checkov over the plan {plan_json}:\n  " + "\n  ".join(problems), result)
    return result


def _unchecked(plan: dict[str, Any], records: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str]]:
    """The plan's resource instances of a type checkov checked somewhere that it did not check."""
    planned = dict(_managed_resources(plan.get("planned_values", {}).get("root_module", {})))
    checked = {record["resource"] for outcome in records.values() for record in outcome}
    kinds = {planned[address] for address in checked if address in planned}
    return sorted(
        (address, kind) for address, kind in planned.items() if kind in kinds and address not in checked
    )


def _misplaced(
    plan: dict[str, Any], records: dict[str, list[dict[str, Any]]], root: str
) -> list[tuple[str, str, str]]:
    """Records whose resource checkov located in a file outside the folder of the module holding it."""
    configuration = plan.get("configuration", {}).get("root_module", {})
    found = set()
    for record in (record for outcome in records.values() for record in outcome):
        file = record["file_path"].lstrip("/")
        folder = _module_folder(record["resource"], configuration, root)
        if file.endswith(".tf") and folder is not None and os.path.dirname(file) != folder:
            found.add((record["resource"], folder, file))
    return sorted(found)


_MODULE_STEP = re.compile(r'module\.([A-Za-z0-9_-]+)(?:\[(?:"[^"]*"|\d+)\])?\.')


def _module_folder(address: str, module: dict[str, Any], folder: str) -> str | None:
    """The folder (relative to the repository) of the module holding `address`, through the plan's
    module calls from the root module's folder; None for a module from elsewhere than a local path."""
    while step := _MODULE_STEP.match(address):
        call = module.get("module_calls", {}).get(step.group(1))
        if call is None or not str(call.get("source", "")).startswith(("./", "../")):
            return None
        folder, module, address = (
            os.path.normpath(os.path.join(folder, call["source"])),
            call["module"],
            address[step.end() :],
        )
    return folder


def _managed_resources(module: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(r["address"], r["type"]) for r in module.get("resources", []) if r.get("mode") == "managed"]
    for child in module.get("child_modules", []):
        found += _managed_resources(child)
    return found


def _ready_checkov() -> Path:
    checkov = checkov_executable()
    if not checkov.exists():
        raise ProjectError(f"checkov not found at {checkov}: run ./inv, which creates .venv-checkov")
    _refuse_config_files()
    return checkov


def _run(arguments: list[str], junit_path: Path | None = None, quiet: bool = False) -> Any:
    """checkov offline with `arguments` (what to scan), its JSON report; its compact list of failures
    goes to the terminal or, quiet, into the error if it crashed; JUnit XML to junit_path if given."""
    checkov = _ready_checkov()
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        json_path = Path(tmp) / "report.json"
        outputs = {"cli": "console", "json": str(json_path)}
        if junit_path is not None:
            outputs["junitxml"] = str(junit_path)
        offline = ["--download-external-modules", "false", "--skip-download"]
        written = [*(arg for output in outputs for arg in ("--output", output)), "--output-file-path"]
        command = [str(checkov), *arguments, *offline, "--compact", *written, ",".join(outputs.values())]
        completed = subprocess.run(
            command, cwd=REPO_ROOT, env=_checkov_env(), check=False, capture_output=quiet, text=True
        )
        # checkov exits 1 when a check failed, 2 when it crashed (its own output explains why).
        if completed.returncode not in (0, 1) or not json_path.exists():
            said = f":\n{completed.stdout}{completed.stderr}" if quiet else ": see its output"
            raise ProjectError(f"checkov failed to run (exit code {completed.returncode}){said}")
        return json.loads(json_path.read_text())


def _refuse_config_files() -> None:
    """checkov reads .checkov.y(a)ml from the scanned directory, its working directory and $HOME."""
    found = [
        folder / name
        for folder in (TERRAFORM_DIR, REPO_ROOT, Path.home())
        for name in (".checkov.yaml", ".checkov.yml")
        if (folder / name).exists()
    ]
    if found:
        raise ProjectError(
            f"checkov would read {', '.join(map(str, found))}, which can skip checks globally: "
            "this scan takes inline skips only, so move it away"
        )


def _checkov_env() -> dict[str, str]:
    return scrubbed_environ(_CHECKOV_ENV_PREFIXES) | _OFFLINE_ENV


def _reports(report: Any, check_type: str, scanned: str) -> list[dict[str, Any]]:
    """checkov writes one report per framework: a dict, a list of them, or a bare summary when it found
    nothing to scan."""
    reports = report if isinstance(report, list) else [report]
    found = [r for r in reports if isinstance(r, dict) and r.get("check_type") == check_type]
    if len(found) != 1 or not found[0]["summary"]["resource_count"]:
        raise ProjectError(f"checkov found no Terraform resources to scan in {scanned}")
    return found


def _read_report(found: dict[str, Any], scanned: str) -> ScanResult:
    summary = found["summary"]
    if summary["parsing_errors"]:
        raise ProjectError(
            f"checkov could not parse {summary['parsing_errors']} file(s) in {scanned}, "
            "so their checks did not run (terraform validate shows why)"
        )
    failures = tuple(
        Finding(
            check_id=record["check_id"],
            check_name=record["check_name"],
            resource=record["resource"],
            file=_configuration_file(record),
            first_line=record["file_line_range"][0],
            last_line=record["file_line_range"][1],
        )
        for record in found["results"]["failed_checks"]
    )
    return ScanResult(summary["passed"], summary["failed"], summary["skipped"], failures)


def _configuration_file(record: dict[str, Any]) -> str:
    """Where a record's resource is written: a plan's records name the .tf file (relative to the
    enrichment root) in file_path, and the plan itself in file_abs_path."""
    path = Path(record["file_abs_path"])
    if path.suffix != ".tf" and record["file_path"].endswith(".tf"):
        path = REPO_ROOT / record["file_path"].lstrip("/")
    return _repo_relative(path)


def _skips_without_reason(junit_path: Path) -> list[str]:
    """Inline skips with no reason, from the JUnit report (the quiet JSON report lists failures only).

    One entry per check and file: a skip in a module block covers all its instances.
    """
    tree = ET.parse(junit_path)  # noqa: S314 - written a moment ago by our own checkov, not untrusted input
    found: set[str] = set()
    for case in tree.iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None and skipped.get("message", "").strip() == _NO_REASON:
            check = _CHECK_ID.search(case.get("name", ""))
            file = _repo_relative(TERRAFORM_DIR / case.get("file", "").lstrip("/"))
            found.add(f"{check.group(1) if check else case.get('name')} in {file}")
    return sorted(found)


def _repo_relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
