"""Unit tests import the Lambda handlers' shared helpers the way the Lambda runtime does: top level
(ssepatterns.sse_c puts lambda_src/shared on sys.path, the one place that does)."""

from emulator_support import emulator  # noqa: F401 - the session's real emulator fixture

import ssepatterns.sse_c  # noqa: F401 - lambda_src/shared on sys.path, before any test module imports it
