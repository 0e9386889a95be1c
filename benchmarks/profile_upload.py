"""Where the client's CPU goes: cProfile of one tree upload against the emulator.

Usage::

    python benchmarks/profile_upload.py [--files 2000] [--top 25] [--output FILE]

The emulator runs in its own process and no latency proxy is used, so the
client's time is CPU (and the emulator's answers). The tree is the one of
``run.py`` (files of 4 KiB in 10 folders), uploaded with ``workers=1`` under
``cProfile`` inside the task process (log-in excluded). Printed: the wall
time, the requests per second, the top functions by own time and by
cumulative time, and the call counts of a few functions known to be hot.
"""

import argparse
import io
import os
import pstats
import sys
import tempfile

from local_data import make_tree
from procs import run_task
from scenarios import NEW_TASKS
from targets import emulator_target

WATCHED = ("getproxies_environment", "get_netrc_auth", "_get_protocol_attrs",
           "__getitem__", "urlencode", "file_md5", "request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args()
    out = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, emulator_target() as target:
        tree = os.path.join(tmp, "profiled")
        make_tree(tree, args.files, 10, 4 << 10)
        stats_path = os.path.join(tmp, "upload.prof")
        report = run_task(sys.executable, NEW_TASKS, "upload", {
            **target.credentials(), "path": tree, "destination": "Private",
            "profile": stats_path})
        print(f"upload of {args.files} x 4 KiB, workers=1, no proxy, under cProfile: "
              f"{report['seconds']:.1f} s, {1000 * report['seconds'] / args.files:.2f} ms "
              "per file (client and emulator together)\n", file=out)
        stats = pstats.Stats(stats_path, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print("calls of watched functions:", file=out)
        for (filename, _, name), (_, ncalls, tottime, cumtime, _) in sorted(
                stats.stats.items(), key=lambda entry: -entry[1][3]):  # type: ignore[attr-defined]
            if name in WATCHED:
                print(f"  {ncalls:9d} calls  {tottime:7.2f} s own  {cumtime:7.2f} s cumulative  "
                      f"{name} ({os.path.basename(filename)})", file=out)
    text = out.getvalue()
    print(text)
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
