"""Where the CPU of one step goes: the client, the emulator, and the harness's proxy.

Usage::

    python benchmarks/cpu_split.py [--step upload.new.w8] [--files 2000]

Runs one step of ``run.py`` (same tree, same 10 ms latency proxy) against a
fresh emulator in its own process, and prints the step's wall time with the
CPU time (user + system) spent meanwhile by

* the client task (its own ``getrusage``, as ``run.py`` reports it);
* the emulator process (from ``/proc/PID/stat``, Linux only);
* the harness process, i.e. mostly the latency proxy (``getrusage``; the set-up
  of the step, such as writing the tree, is counted too).

On a machine with ``N`` cores, a step whose three CPU times add up to more
than ``N`` times its wall time is CPU-bound: its floor is that sum over ``N``.
"""

import argparse
import os
import resource
import sys
import tempfile

from procs import emulator_process
from scenarios import STEPS, Bench, Sizes
from targets import Target

__all__ = ["main"]


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", default="upload.new.w8",
                        choices=[key for key, who, _ in STEPS if who == "new"])
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    sizes = Sizes(calls=1000, files=args.files, folders=10, file_kib=4, big_mib=64,
                  rtt_ms=10.0)
    with tempfile.TemporaryDirectory(prefix="pydas-cpu-") as workdir, \
            emulator_process() as info:
        target = Target("emulator", info["url"], info["email"], info["api_key"])
        bench = Bench(target, sizes, workdir, None, None, (args.step,))
        pid = int(info["pid"])
        try:
            emulator, harness = _process_cpu(pid), _own_cpu()
            figures = bench.run(1)[args.step]
            emulator, harness = _process_cpu(pid) - emulator, _own_cpu() - harness
        finally:
            bench.close()
    client = figures.get("cpu_seconds", 0.0)
    total = client + emulator + harness
    cores = os.cpu_count() or 1
    print(f"{args.step}, {args.files} files, 10 ms RTT, against the emulator, {cores} cores")
    print(f"  wall {figures['seconds']:.2f} s, {figures.get('requests', 0)} requests")
    print(f"  CPU: client {client:.2f} s, emulator {emulator:.2f} s, "
          f"harness and proxy {harness:.2f} s; together {total:.2f} s, "
          f"i.e. at least {total / cores:.2f} s of wall time on {cores} cores")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
