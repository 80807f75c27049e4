"""./inv bench: how long the daily workflows take, next to the floor that terraform itself sets.

Every terraform command that touches the AWS provider pays seconds of provider start-up (a 700 MB binary
that builds its schema on every launch). That floor, not our code, should dominate, so each workflow is
measured next to its floor, in the same run, and only the ratio is compared (these machines are noisy).

What is measured. Each workflow runs as a subprocess `./inv <task>`, exactly what a user types, N times
(median reported), from its own precondition, which is set up untimed before each run:

    cold up      ./inv up      emulator stopped, no emulator state, no .terraform/, no state, no build/:
                               a fresh clone whose virtualenvs ./inv has already made
    warm apply   ./inv apply   the stack up, nothing changed
    test-plan    ./inv test-plan  (any state; it plans in its own copy against its own emulator)
    verify       ./inv verify  the stack up
    down         ./inv down    the stack up
    test         ./inv test    the stack down, emulator stopped, .terraform/ current

Where. Never in this checkout: the bench copies the working tree (tracked and untracked, not ignored
files: `git ls-files -co --exclude-standard`, so uncommitted work is measured too) to a temporary folder,
links the existing virtualenvs into it, and runs there with an emulator on a free port and state of its
own. The user's emulator, Terraform state and build/ are never touched, so there is nothing to refuse.

Counting. A shim named `terraform` goes first on PATH: it logs each command (start, end, exit code, its
pid, directory, arguments) and runs the real binary. A watcher thread scans /proc for processes carrying
the run's marker variable: emulator launchers, and provider plugins, each attributed to the terraform
command that started it (the plugin's grandparent is that command's shim). A command is provider-loading
when it was seen starting the provider (Terraform 1.11 with hashicorp/aws 5.100: validate 2 plugin
starts, plan 3, plan -destroy 4, apply of a saved plan 2, show -json 1; output, init, fmt, version 0,
though each still spends ~0.55 s hashing the provider package); unwatched, by its subcommand.

The floor model (floor = P x V + E x S, P provider-loading terraform commands, V a bare validate, E
emulator start-ups, S one start-up; the ratio is median seconds / floor): tools/bench/floor.py.

Runtime on 2 cores: about 12 minutes for run(3, test_runs=1); each more ./inv test run adds 2.5 minutes.
Linux only (/proc). Every run's output is kept in build/bench/logs/; the report goes to
build/bench/bench.json unless a path is given.

One module per job:

    workflows      the workflows, their preconditions and targets
    shim           the terraform counting shim, its line stamper, the parsers of its log and of a
                   run's output (steps, slow resources)
    watcher        the /proc watcher: emulator launchers and provider plugins of one run
    critical_path  the apply walk against the longest provider-imposed chain
    floor          the floor model and FloorProbe, which samples it
    records        one run (RunRecord) and the summary of a workflow's runs (Summary)
    figures        medians, rounding and the text of figures
    machine        the machine, for the report
    workspace      the copy of the checkout the workflows run in, and its preconditions
    report         the table, the breakdown, the JSON report
    main           run(): the schedule, a measurement each, the report
"""

from tools.bench.main import run

__all__ = ["run"]
