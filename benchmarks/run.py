"""Reproduce the performance table of issue 11 and write ``benchmarks/RESULTS.rst``.

Usage::

    python benchmarks/run.py [--quick] [--dry] [--runs 3] [--label before]
                             [--real-server /tmp/midas-server-0/credentials.env]
                             [--real-runs N] [--no-emulator] [--only downloads]
    python benchmarks/run.py --render

Prerequisites (installed by hand, never silently):

* the checkout under test installed in the running interpreter
  (``pip install -e .``);
* ``curl`` (``apt-get install curl``); without it the curl columns are empty;
* pip able to reach PyPI once, to make the old client's virtualenv
  (``~/.cache/pydas-benchmarks/venv-pydas-0.3.6``); without it the old
  client's columns are empty.

A full run (1,000 calls, 2,000 files, 1 GiB, 3 runs) takes about an hour on
2 cores; ``--quick`` (100 calls, 100 files, 32 MiB, 1 run) a few minutes.
Results go to ``benchmarks/results/<label>.json`` and ``RESULTS.rst`` is
rewritten from all the JSON files there; ``--quick`` only prints its tables,
unless ``--write`` is given.
With ``--real-server``, the same figures of pydas and curl are also taken
against that server (in a scratch folder that is deleted afterwards); the old
client is not run there, because it sends the API key and tokens in URLs,
which the server's access log would keep. ``--only downloads`` measures the
download steps alone (the tree and the big file are still uploaded, but not
measured) and puts them into the label's record in place of the earlier ones.
``--render`` only rewrites ``RESULTS.rst``, e.g. after ``results/verdict.rst``
(the hand-written reading of the figures against the targets) was edited.
``call_floor.py`` (one small call in ``http.client``, ``requests`` and pydas)
and ``cpu_split.py`` (the CPU of client, emulator and proxy in one step) give
the floors that verdict cites; ``profile_upload.py`` profiles the client.
"""

import argparse
import dataclasses
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

import old_client
import results
from scenarios import FULL, GROUPS, QUICK, STEPS, Bench, Sizes, timestamp
from targets import Target, emulator_target, real_server_target

HERE = os.path.dirname(os.path.abspath(__file__))


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                          if line.startswith("model name")), "")
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({model or platform.processor()}), {memory:.0f} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
            "the cores are shared with other sessions working at the same time")


def _code_version() -> str:
    """The last commit that changed ``pydas/`` (the code under test), ``-dirty`` if it has edits."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", HERE, *args], capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("log", "-1", "--format=%h", "--", "../pydas") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--", "../pydas") else "")


def _curl() -> Optional[str]:
    path = shutil.which("curl")
    if path is None:
        print("curl not found: its figures are skipped (apt-get install curl)", file=sys.stderr)
    return path


def _runs(target: Target, sizes: Sizes, count: int, old_python: Optional[str],
          curl: Optional[str], steps: Optional[Tuple[str, ...]]) -> List[Dict[str, Any]]:
    done = []
    with tempfile.TemporaryDirectory(prefix="pydas-bench-") as workdir:
        bench = Bench(target, sizes, workdir, old_python, curl, steps)
        try:
            for index in range(1, count + 1):
                print(f"[{timestamp()}] {target.kind}: run {index} of {count}", flush=True)
                run = bench.run(index)
                for key, figures in run.items():
                    extra = ""
                    if "requests" in figures:
                        extra = (f"  {figures['requests']} requests, "
                                 f"{figures['connections']} connections, "
                                 f"{figures['upload_bytes'] / 1e6:.2f} MB upload.perform")
                    print(f"  {key:<20} {figures['seconds']:8.2f} s "
                          f"{figures['peak_rss_mib']:7.1f} MiB{extra}", flush=True)
                done.append(run)
        finally:
            bench.close()
    return done


def _measure(record: Dict[str, Any], target: Target, sizes: Sizes, count: int,
             old_python: Optional[str], curl: Optional[str], command: str,
             steps: Optional[Tuple[str, ...]] = None) -> None:
    """Run the steps ``count`` times against ``target``; store the runs and the conditions."""
    meta = {"date": timestamp(), "load_before": _uptime(), "runs": count, "command": command,
            "url": target.url, "old_client": old_python is not None}
    record["targets"][target.kind] = _runs(target, sizes, count, old_python, curl, steps)
    meta["load_after"] = _uptime()
    record["meta"][target.kind] = meta


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--dry", action="store_true", help="print the plan and stop")
    parser.add_argument("--runs", type=int, help="runs against the emulator (default 3)")
    parser.add_argument("--label", help="column name in RESULTS.rst (default before)")
    parser.add_argument("--real-server", metavar="CREDENTIALS",
                        help="also measure against the server of this credentials.env")
    parser.add_argument("--real-runs", type=int, help="runs against the real server")
    parser.add_argument("--no-emulator", action="store_true",
                        help="measure against the real server only")
    parser.add_argument("--write", action="store_true",
                        help="rewrite RESULTS.rst even with --quick")
    parser.add_argument("--only", choices=sorted(GROUPS),
                        help="measure one group of steps; they replace the label's earlier ones")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite RESULTS.rst from results/*.json and results/verdict.rst")
    args = parser.parse_args(argv)
    if args.render:
        _write_results()
        return
    sizes = QUICK if args.quick else FULL
    runs = args.runs or (1 if args.quick else 3)
    real_runs = args.real_runs or runs
    label = args.label or ("quick" if args.quick else "before")
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])

    print(f"sizes: {sizes}; {runs} run(s) on the emulator"
          + (f", {real_runs} on {args.real_server}" if args.real_server else ""))
    steps = GROUPS[args.only] if args.only else None
    for key, who, what in STEPS:
        if steps is None or key in steps:
            print(f"  {key:<20} {who:<5} {what}")
    if args.dry:
        return

    old_python, old_note = old_client.ensure_virtualenv()
    print(old_note, flush=True)
    curl = _curl()
    record: Dict[str, Any] = {
        "label": label,
        "date": timestamp(),
        "code": _code_version(),
        "machine": _machine(),
        "sizes": dataclasses.asdict(sizes),
        "steps": [key for key, _, _ in STEPS],
        "clients": f"pydas {_code_version()} (this checkout); {old_note}; "
                   f"curl: {curl or 'not found'}",
        "targets": {},
        "meta": {},
    }
    if not args.no_emulator:
        with emulator_target() as target:
            _measure(record, target, sizes, runs, old_python, curl, command, steps)
    if args.real_server:
        target = real_server_target(args.real_server)
        _measure(record, target, sizes, real_runs, None, curl, command, steps)
    if args.quick and not args.write:
        print(results.render([record]))
        return
    path = results.save(label, record, merge=not args.quick, only=args.only)
    print(f"raw results: {path}")
    _write_results()


def _write_results() -> None:
    with open(os.path.join(HERE, "RESULTS.rst"), "w") as handle:
        handle.write(results.render(results.load_all()))
    print("wrote benchmarks/RESULTS.rst")


if __name__ == "__main__":
    main()
