"""Where things live in the checkout. Everything generated stays under git-ignored folders."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = REPO_ROOT / "terraform"
ENVS_DIR = TERRAFORM_DIR / "envs"
EXAMPLES_DIR = REPO_ROOT / "examples"  # roots a consumer copies; validated and planned like the envs
LAMBDA_SRC_DIR = REPO_ROOT / "lambda_src"
BUILD_DIR = REPO_ROOT / "build"  # Lambda zips, saved plans, reports
EMULATOR_STATE_DIR = REPO_ROOT / ".ministack"  # emulator data, TLS material, pid file, log
