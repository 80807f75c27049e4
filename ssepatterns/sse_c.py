"""The Lambda functions' SSE-C helpers (lambda_src/shared), for the tooling too: one implementation.

They are plain top-level modules in the Lambda zips, so the tooling imports them the same way. This is
the one place that puts lambda_src/shared on sys.path: the unit and post-apply suites' conftests import
this module for it.
"""

from __future__ import annotations

import sys

from ssepatterns.paths import LAMBDA_SRC_DIR

_SHARED = str(LAMBDA_SRC_DIR / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)

import sse_c_key  # noqa: E402
import sse_c_reencrypt  # noqa: E402
import sse_c_secret  # noqa: E402

__all__ = ["sse_c_key", "sse_c_reencrypt", "sse_c_secret"]
