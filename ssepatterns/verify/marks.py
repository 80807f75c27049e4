"""How a post-apply test declares itself a check, or declares that it cannot apply to the target."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ssepatterns.verify.report import NOT_APPLICABLE_PREFIX


def check(id: str, pattern: str, expected: str | Callable[..., str]) -> pytest.MarkDecorator:  # noqa: A002
    """Mark a test as the check `id` of `pattern`, expecting `expected` (a report row). In a parametrized
    check each is formatted with the parameters ("{pattern}.x"), or `expected` is a function of them."""
    return pytest.mark.check(id=id, pattern=pattern, expected=expected)


def not_applicable(reason: str) -> None:
    """End the check as not applicable on this target (never counted as passed)."""
    pytest.skip(f"{NOT_APPLICABLE_PREFIX}: {reason}")
