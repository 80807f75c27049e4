"""Unit tests import the Lambda handlers' shared helpers the way the Lambda runtime does: top level."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda_src" / "shared"))

from emulator_support import emulator  # noqa: E402,F401 - the session's real emulator fixture
