"""Unit tests import the Lambda handlers' shared helpers the way the Lambda runtime does: top level."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda_src" / "shared"))
