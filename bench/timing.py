#!/usr/bin/env python3
"""Time commands with a monotonic clock, several runs each, interleaved.

    python3 timing.py [--runs N] [--fresh DIR] [--before CMD] -- NAME CMD ARGS... [::: NAME CMD ARGS...]

Each command gets a NAME. Runs alternate between the commands (A1 B1 A2 B2 ...), so
that a slow phase of the machine (another build, the file system flushing) hits all of
them alike rather than whichever happened to run then. With --fresh, run i of command
NAME gets its own output folder DIR/NAME.i, which must not exist yet, and `{out}` in
its arguments is replaced by that path (the folders are kept for checking). With
--before, the shell command CMD runs before every run of every command, untimed, with
`{n}` replaced by a number that grows by one each time (an edit for the run to build).

Prints one line per command, in seconds: "NAME MEDIAN MIN USER SYS RSS RUN1 RUN2 ...",
where MEDIAN and MIN are wall-clock times, USER and SYS the medians of the command's
CPU time in user space and in the kernel, and RSS its largest peak resident memory
over the runs, in MiB. Standard output of the commands is
discarded; a failing run fails this script.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fresh", type=Path)
    ap.add_argument("--before")
    ap.add_argument("commands", nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    words = opts.commands[1:] if opts.commands[:1] == ["--"] else opts.commands

    commands: list[list[str]] = [[]]
    for w in words:
        if w == ":::":
            commands.append([])
        else:
            commands[-1].append(w)
    if any(len(c) < 2 for c in commands):
        sys.exit("timing.py: every command needs a NAME and a program")

    wall = {c[0]: [] for c in commands}
    user = {c[0]: [] for c in commands}
    system = {c[0]: [] for c in commands}
    rss = {c[0]: 0.0 for c in commands}
    edits = 0
    for i in range(1, opts.runs + 1):
        for name, *argv in commands:
            if opts.before:
                edits += 1
                subprocess.run(opts.before.replace("{n}", str(edits)), shell=True, check=True)
            if opts.fresh:
                out = opts.fresh / f"{name}.{i}"
                if out.exists():
                    sys.exit(f"timing.py: {out} already exists")
                argv = [a.replace("{out}", str(out)) for a in argv]
            t0 = time.perf_counter()  # monotonic, highest resolution available
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
            # wait4: this child's own resource use, peak memory included.
            _, status, r = os.wait4(p.pid, 0)
            t1 = time.perf_counter()
            p.returncode = os.waitstatus_to_exitcode(status)
            if p.returncode != 0:
                sys.exit(f"timing.py: run {i} of {' '.join(argv)} exited with {p.returncode}")
            wall[name].append(t1 - t0)
            user[name].append(r.ru_utime)
            system[name].append(r.ru_stime)
            rss[name] = max(rss[name], r.ru_maxrss / 1024)  # KiB on Linux

    med = statistics.median
    for name in wall:
        ts = [
            med(wall[name]),
            min(wall[name]),
            med(user[name]),
            med(system[name]),
            rss[name],
            *wall[name],
        ]
        print(name, " ".join(f"{t:.4f}" for t in ts))


if __name__ == "__main__":
    main()
