"""Invalid inputs stop `terraform plan` with the validation block's precise message.

Table-driven (invalid_inputs.yaml): each case is one plan with several invalid variables, all
planned in parallel with the rest of the session against the throwaway emulator; every expected
message must appear. (Moved from tests/e2e, which planned against the deployed stack's emulator.)
"""

from __future__ import annotations

import re

import pytest

from .cases import invalid_inputs

pytestmark = pytest.mark.plan

CASES = {case.id: case for case in invalid_inputs()}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_inputs_fail_plan_with_their_messages(validation_failures: dict[str, str], case: str) -> None:
    output = re.sub(r"\s+", " ", validation_failures[case])  # terraform wraps long messages
    assert output, (
        f"{CASES[case].name}: plan with {CASES[case].variables} succeeded; a validation block is missing"
    )
    missing = [message for message in CASES[case].messages if message not in output]
    assert not missing, f"missing from the plan's errors: {missing}\nplan output: {output[:4000]}"
