"""The policy scan: counting and failing from checkov's reports, with a fake checkov; then one real scan.

The fake is a script at <tmp>/.venv-checkov/bin/checkov that records how it was called and writes
recorded checkov 3.3.30 reports (trimmed to what matters) to the paths it is given.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ssepatterns import scan
from ssepatterns.errors import ProjectError
from ssepatterns.scan import ScanFailed, ScanResult, run_scan

FAKE_CHECKOV = """\
#!{python}
import json, os, sys
from pathlib import Path

here = Path(__file__).parent
spec = json.loads((here / "spec.json").read_text())
call = {{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}
(here / "call.json").write_text(json.dumps(call))
print(spec["stdout"])
outputs = [sys.argv[i + 1] for i, arg in enumerate(sys.argv) if arg == "--output"]
paths = sys.argv[sys.argv.index("--output-file-path") + 1].split(",")
for output, path in zip(outputs, paths):
    if path != "console" and spec.get(output) is not None:
        Path(path).write_text(spec[output])
sys.exit(spec["exit_code"])
"""


def _failed_record(
    terraform: Path, check_id: str, check_name: str, resource: str, file: str
) -> dict[str, Any]:
    """A record of a quiet JSON report, as checkov 3.3.30 writes it (code blocks and evaluations cut)."""
    return {
        "check_id": check_id,
        "bc_check_id": None,
        "check_name": check_name,
        "check_result": {"result": "FAILED", "evaluated_keys": ["lifecycle_rule", "resource_type"]},
        "file_path": f"/{file}",
        "file_abs_path": str(terraform / file),
        "repo_file_path": f"/terraform/{file}",
        "file_line_range": [18, 28] if file.startswith("modules") else [14, 18],
        "resource": resource,
        "caller_file_path": None,
        "caller_file_line_range": None,
        "severity": None,
    }


def _report(passed: int, failed: list[dict[str, Any]], skipped: int, parsing_errors: int = 0) -> str:
    summary = {
        "passed": passed,
        "failed": len(failed),
        "skipped": skipped,
        "parsing_errors": parsing_errors,
        "resource_count": 44,
        "checkov_version": "3.3.30",
    }
    return json.dumps({"check_type": "terraform", "results": {"failed_checks": failed}, "summary": summary})


def _junit(skip_message: str = "versioning is out of scope") -> str:
    """A JUnit report as checkov writes it: a pass, and one skip in a module, reported per instance."""
    bucket = (
        "/modules/encrypted-bucket/main.tf.module.sse_patterns.module.bucket[&quot;{}&quot;].aws_s3_bucket"
    )
    skips = "".join(
        f'<testcase name="[NONE][CKV_AWS_21] Ensure all data stored in the S3 bucket have versioning" '
        f'classname="{bucket.format(pattern)}.this" file="/modules/encrypted-bucket/main.tf">'
        f'<skipped type="skipped" message="{skip_message}"/></testcase>'
        for pattern in ("sse_s3", "sse_c")
    )
    return (
        '<?xml version="1.0" ?>\n<testsuites disabled="0" errors="0" failures="0" tests="3" time="0.0">'
        '<testsuite disabled="0" errors="0" failures="0" name="terraform scan" skipped="2" tests="3">'
        f'<testcase name="[NONE][CKV2_AWS_6] Ensure that S3 bucket has a Public Access block" '
        f'classname="{bucket.format("sse_s3")}.this" file="/modules/encrypted-bucket/main.tf"/>'
        f"{skips}</testsuite></testsuites>\n"
    )


@dataclass
class FakeCheckov:
    bin_dir: Path

    def will(
        self, report: str | None, junit: str | None = None, exit_code: int = 0, stdout: str = ""
    ) -> None:
        spec = {"json": report, "junitxml": junit or _junit(), "exit_code": exit_code, "stdout": stdout}
        (self.bin_dir / "spec.json").write_text(json.dumps(spec))

    @property
    def call(self) -> dict[str, Any]:
        return json.loads((self.bin_dir / "call.json").read_text())


@pytest.fixture
def terraform_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout in tmp_path: REPO_ROOT, its terraform/ folder, and a HOME without a .checkov.yaml."""
    monkeypatch.setattr(scan, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(scan, "TERRAFORM_DIR", tmp_path / "terraform")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "terraform").mkdir()
    return tmp_path / "terraform"


@pytest.fixture
def fake(terraform_dir: Path) -> FakeCheckov:
    bin_dir = terraform_dir.parent / ".venv-checkov" / "bin"
    bin_dir.mkdir(parents=True)
    program = bin_dir / "checkov"
    program.write_text(FAKE_CHECKOV.format(python=sys.executable))
    program.chmod(0o755)
    return FakeCheckov(bin_dir)


def _lifecycle_failures(terraform: Path) -> list[dict[str, Any]]:
    return [
        _failed_record(
            terraform,
            "CKV2_AWS_61",
            "Ensure that an S3 bucket has a lifecycle configuration",
            'module.sse_patterns.module.bucket["sse_s3"].aws_s3_bucket.this',
            "modules/encrypted-bucket/main.tf",
        ),
        _failed_record(
            terraform,
            "CKV_AWS_40",
            "Ensure IAM policies are attached only to groups or roles",
            "aws_iam_user_policy.operator",
            "envs/local/operator.tf",
        ),
    ]


# --------------------------------------------------------------------------- with a fake checkov


def test_counts_come_from_the_json_report(
    fake: FakeCheckov, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.will(_report(passed=449, failed=[], skipped=67), stdout="Passed checks: 1, Failed checks: 9")
    junit = tmp_path / "reports" / "checkov.xml"

    result = run_scan(junit)

    assert result == ScanResult(passed=449, failed=0, skipped=67)
    assert capfd.readouterr().out.endswith("checkov: 449 passed, 0 failed, 67 skipped\n")
    assert junit.read_text() == _junit()


def test_checkov_runs_offline_with_inline_skips_only(
    fake: FakeCheckov, terraform_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CKV_SKIP_CHECK", "CKV_AWS_18")  # a global skip list from the caller's shell
    monkeypatch.setenv("BC_API_KEY", "not-a-real-key")
    fake.will(_report(passed=1, failed=[], skipped=0))

    run_scan(tmp_path / "checkov.xml")

    argv, env = fake.call["argv"], fake.call["env"]
    assert argv[argv.index("--directory") + 1] == str(terraform_dir)
    assert argv[argv.index("--framework") + 1] == "terraform"
    assert argv[argv.index("--download-external-modules") + 1] == "false"
    assert {"--skip-download", "--compact", "--quiet"} <= set(argv)
    assert not {"--skip-check", "--config-file", "--soft-fail"} & set(argv)
    assert env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] == "true"
    assert "CKV_SKIP_CHECK" not in env and "BC_API_KEY" not in env
    assert fake.call["cwd"] == str(terraform_dir.parent)


def test_failed_checks_raise_naming_check_resource_and_place(
    fake: FakeCheckov, terraform_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.will(_report(passed=449, failed=_lifecycle_failures(terraform_dir), skipped=67), exit_code=1)

    with pytest.raises(ScanFailed) as caught:
        run_scan(tmp_path / "checkov.xml")

    lines = str(caught.value).splitlines()
    assert lines[1:] == [
        '  failed: CKV2_AWS_61 module.sse_patterns.module.bucket["sse_s3"].aws_s3_bucket.this '
        "(terraform/modules/encrypted-bucket/main.tf:18-28)",
        "  failed: CKV_AWS_40 aws_iam_user_policy.operator (terraform/envs/local/operator.tf:14-18)",
    ]
    assert caught.value.result.failed == 2
    assert [finding.check_id for finding in caught.value.result.failures] == ["CKV2_AWS_61", "CKV_AWS_40"]
    assert capfd.readouterr().out.endswith("checkov: 449 passed, 2 failed, 67 skipped\n")


def test_a_skip_without_reason_fails_once_per_check_and_file(fake: FakeCheckov, tmp_path: Path) -> None:
    fake.will(_report(passed=1, failed=[], skipped=2), junit=_junit(skip_message="No comment provided"))

    with pytest.raises(ScanFailed) as caught:
        run_scan(tmp_path / "checkov.xml")

    assert str(caught.value).endswith(
        "\n  skipped without a reason: CKV_AWS_21 in terraform/modules/encrypted-bucket/main.tf"
    )


def test_missing_checkov_virtualenv(terraform_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"checkov not found at .*\.venv-checkov/bin/checkov: run \./inv"):
        run_scan(tmp_path / "checkov.xml")


def test_a_config_file_checkov_would_read_is_refused(
    fake: FakeCheckov, terraform_dir: Path, tmp_path: Path
) -> None:
    (terraform_dir / ".checkov.yaml").write_text("skip-check:\n  - CKV_AWS_18\n")
    fake.will(_report(passed=1, failed=[], skipped=0))

    with pytest.raises(ProjectError, match=r"terraform/\.checkov\.yaml, which can skip checks globally"):
        run_scan(tmp_path / "checkov.xml")


@pytest.mark.parametrize(
    ("report", "exit_code", "error"),
    [
        (None, 2, r"checkov failed to run \(exit code 2\)"),
        # checkov's report when it finds nothing to scan: a bare summary
        ('{"passed": 0, "failed": 0, "parsing_errors": 0, "resource_count": 0}', 0, "no Terraform"),
        # checkov exits 0 when a file does not parse: its checks just do not run
        (_report(passed=1, failed=[], skipped=2, parsing_errors=1), 0, r"could not parse 1 file\(s\)"),
    ],
    ids=["crash", "nothing-scanned", "parse-error"],
)
def test_a_scan_that_did_not_really_run_is_an_error(
    fake: FakeCheckov, tmp_path: Path, report: str | None, exit_code: int, error: str
) -> None:
    fake.will(report, exit_code=exit_code)
    with pytest.raises(ProjectError, match=error):
        run_scan(tmp_path / "checkov.xml")


# --------------------------------------------------------------------------- a plan, with a fake checkov

BUCKET = 'module.sse_patterns.module.bucket["{}"].aws_s3_bucket.this'
LOG_GROUP = 'module.sse_patterns.module.sse_c_functions.aws_cloudwatch_log_group.function["upload"]'


def _plan(*buckets: str) -> dict[str, Any]:
    """A `terraform show -json` plan of the local env, cut to what the scan reads: the buckets given and
    one log group, in their modules, and the module calls from the env to them."""
    bucket_module = {
        "address": "module.sse_patterns.module.bucket",
        "resources": [
            {"address": BUCKET.format(key), "mode": "managed", "type": "aws_s3_bucket", "name": "this"}
            for key in buckets
        ],
    }
    functions = {
        "address": "module.sse_patterns.module.sse_c_functions",
        "resources": [
            {"address": LOG_GROUP, "mode": "managed", "type": "aws_cloudwatch_log_group", "name": "function"}
        ],
    }
    sse_patterns = {"address": "module.sse_patterns", "child_modules": [bucket_module, functions]}
    calls = {
        "bucket": {"source": "../encrypted-bucket", "module": {}},
        "sse_c_functions": {"source": "../sse-c-lambdas", "module": {}},
    }
    return {
        "planned_values": {"root_module": {"child_modules": [sse_patterns]}},
        "configuration": {
            "root_module": {
                "module_calls": {
                    "sse_patterns": {
                        "source": "../../modules/sse-patterns",
                        "module": {"module_calls": calls},
                    }
                }
            }
        },
    }


def _plan_record(plan_json: Path, check_id: str, resource: str, file: str, result: str) -> dict[str, Any]:
    """A record of a JSON report of a plan scan with enrichment, as checkov 3.3.30 writes it: file_path
    relative to the enrichment root, file_abs_path the plan."""
    return {
        "check_id": check_id,
        "check_name": "a check",
        "check_result": {"result": result, "evaluated_keys": []},
        "file_path": file,
        "file_abs_path": str(plan_json),
        "file_line_range": [18, 28],
        "resource": resource,
    }


def _plan_report(
    passed: list[dict[str, Any]], failed: list[dict[str, Any]], skipped: list[dict[str, Any]]
) -> str:
    summary = {
        "passed": len(passed),
        "failed": len(failed),
        "skipped": len(skipped),
        "parsing_errors": 0,
        "resource_count": 3,
        "checkov_version": "3.3.30",
    }
    results = {"passed_checks": passed, "failed_checks": failed, "skipped_checks": skipped}
    return json.dumps({"check_type": "terraform_plan", "results": results, "summary": summary})


@pytest.fixture
def plan_json(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_plan("sse_s3", "sse_c")))
    return path


def _clean_records(plan_json: Path) -> list[dict[str, Any]]:
    bucket_file, lambdas_file = (
        "terraform/modules/encrypted-bucket/main.tf",
        "terraform/modules/sse-c-lambdas/main.tf",
    )
    return [
        _plan_record(plan_json, "CKV_AWS_21", BUCKET.format("sse_s3"), bucket_file, "PASSED"),
        _plan_record(plan_json, "CKV_AWS_21", BUCKET.format("sse_c"), bucket_file, "PASSED"),
        _plan_record(plan_json, "CKV_AWS_338", LOG_GROUP, lambdas_file, "PASSED"),
    ]


def test_a_plan_scan_checks_the_plan_with_the_configurations_skips(
    fake: FakeCheckov, terraform_dir: Path, plan_json: Path
) -> None:
    fake.will(_plan_report(passed=_clean_records(plan_json), failed=[], skipped=[]))

    result = scan.scan_plan(plan_json, terraform_dir / "envs" / "local")

    assert result == ScanResult(passed=3, failed=0, skipped=0)
    argv = fake.call["argv"]
    assert argv[argv.index("--file") + 1] == str(plan_json)
    assert argv[argv.index("--framework") + 1] == "terraform_plan"
    assert argv[argv.index("--repo-root-for-plan-enrichment") + 1] == str(terraform_dir.parent)
    assert not {"--skip-check", "--config-file", "--soft-fail"} & set(argv)


def _failed(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The second bucket fails a check."""
    return {
        "passed": [records[0], records[2]],
        "failed": [{**records[1], "check_result": {"result": "FAILED"}}],
    }


def _left_out(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """One bucket checked; the other, of the same type, not evaluated (as the instances of a module call
    whose for_each checkov cannot expand are not), which is no pass."""
    return {"passed": [records[0], records[2]]}


def _borrowed(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Two modules with an aws_cloudwatch_log_group.function: checkov took the skips of the wrong one."""
    return {
        "passed": records[:2],
        "skipped": [{**records[2], "file_path": "terraform/modules/sse-c-reencrypt/main.tf"}],
    }


def _reasonless(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    check_result = {"result": "SKIPPED", "suppress_comment": "No comment provided"}
    return {"passed": records[:2], "skipped": [{**records[2], "check_result": check_result}]}


@pytest.mark.parametrize(
    ("outcomes", "problem"),
    [
        (
            _failed,
            f"failed: CKV_AWS_21 {BUCKET.format('sse_c')} (terraform/modules/encrypted-bucket/main.tf:18-28)",
        ),
        (_left_out, f"not checked: {BUCKET.format('sse_c')} (checkov checked other aws_s3_bucket resources)"),
        (
            _borrowed,
            f"read from another module's file: {LOG_GROUP} is in terraform/modules/sse-c-lambdas, "
            "checkov took terraform/modules/sse-c-reencrypt/main.tf (rename one)",
        ),
        (_reasonless, "skipped without a reason: CKV_AWS_338 in terraform/modules/sse-c-lambdas/main.tf"),
    ],
    ids=["failed", "left-out", "borrowed-skips", "reasonless-skip"],
)
def test_a_plan_scan_fails_naming_the_problem(
    fake: FakeCheckov,
    terraform_dir: Path,
    plan_json: Path,
    outcomes: Callable[[list[dict[str, Any]]], dict[str, list[dict[str, Any]]]],
    problem: str,
) -> None:
    records = outcomes(_clean_records(plan_json))
    report = _plan_report(records.get("passed", []), records.get("failed", []), records.get("skipped", []))
    fake.will(report, exit_code=1 if records.get("failed") else 0)

    with pytest.raises(ScanFailed) as caught:
        scan.scan_plan(plan_json, terraform_dir / "envs" / "local")

    assert str(caught.value).splitlines()[1:] == [f"  {problem}"]
