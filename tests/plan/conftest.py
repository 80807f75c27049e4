"""The plan suite's plugins, cloud-foundation-fabric style: the fixtures in fixtures.py, the summary of the
terraform commands in summary.py. The modules they use do one job each: workspace.py (the emulator, the
copied trees, init/plan/show through tftest), planned.py (the views of a plan), jobs.py (the plans run
at once), cases.py (invalid inputs and mutations, as data).

pytest accepts pytest_plugins only in a conftest it loads at start-up: one in a folder given on the
command line (`pytest tests/plan`, `./inv test-plan`) or above one, not one it finds while collecting
a parent folder (`pytest tests`; the post-apply suite cannot run that way either).
"""

pytest_plugins = ["plan.fixtures", "plan.summary"]  # fixtures first: summary.py imports it
