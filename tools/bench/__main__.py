"""Development: python -m tools.bench [runs] [workflow ...]"""

import sys

from tools.bench.main import run

sys.exit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1, None, only=sys.argv[2:] or None))
