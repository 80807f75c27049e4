"""How a post-apply test declares itself a check, or declares that it cannot apply to the target."""

from __future__ import annotations

import pytest

from ssepatterns.verify.report import NOT_APPLICABLE_PREFIX


def check(id: str, pattern: str, expected: str) -> pytest.MarkDecorator:  # noqa: A002 - the report's field
    """Mark a test as the check `id` of `pattern`, expecting `expected` (a report row)."""
    return pytest.mark.check(id=id, pattern=pattern, expected=expected)


def not_applicable(reason: str) -> None:
    """End the check as not applicable on this target (never counted as passed)."""
    pytest.skip(f"{NOT_APPLICABLE_PREFIX}: {reason}")
