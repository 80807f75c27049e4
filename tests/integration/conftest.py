"""Integration tests: the tooling against a real MiniStack emulator (one per session, emulator_support.py,
loaded as a plugin; some tests start their own) or the real terraform. Run by ./inv test-integration.

ssepatterns.sse_c puts lambda_src/shared on sys.path, as for the unit tests.
"""

import ssepatterns.sse_c  # noqa: F401 - lambda_src/shared on sys.path, before any test module imports it

pytest_plugins = ["emulator_support"]  # the session's real emulator fixture
