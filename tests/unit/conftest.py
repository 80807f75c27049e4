"""Unit tests import the Lambda handlers' shared helpers the way the Lambda runtime does: top level
(ssepatterns.sse_c puts lambda_src/shared on sys.path, the one place that does). Nothing here starts an
emulator or runs the real terraform: that is tests/integration."""

import ssepatterns.sse_c  # noqa: F401 - lambda_src/shared on sys.path, before any test module imports it
