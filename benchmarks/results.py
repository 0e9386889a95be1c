"""Raw results (one JSON file per label) and ``RESULTS.rst`` made from them.

``benchmarks/results/<label>.json`` holds every measurement of every run of
one invocation of ``run.py --label <label>`` (``before`` is today's code at
the start of the performance work; a later ``after`` run adds a column).
``RESULTS.rst`` is written from all the JSON files present: the summary table
of issue 11 (median of the runs, range in brackets, each ratio taken within
one run) and the detailed figures of each step.
"""

import glob
import json
import os
import statistics
from typing import Any, Callable, Dict, List, Optional

__all__ = ["load_all", "render", "save"]

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(HERE, "results")

Run = Dict[str, Dict[str, Any]]


def save(label: str, record: Dict[str, Any], merge: bool = True,
         only: Optional[str] = None) -> str:
    """Write ``results/<label>.json``; with ``merge``, keep the targets measured earlier.

    So ``--real-server ... --no-emulator --label before`` adds the real
    server's figures to the emulator's of the same label. A record of one
    group of steps (``only``, see ``run.py --only``) replaces those steps in
    the runs of the label's record and keeps its other steps; its conditions
    go into the record's notes.
    """
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"{label}.json")
    if only is not None:
        record = _merged_steps(path, record, only)
    elif merge and os.path.exists(path):
        with open(path) as handle:
            earlier = json.load(handle)
        for target, runs in earlier["targets"].items():
            if target not in record["targets"]:
                record["targets"][target] = runs
                record["meta"][target] = _meta(earlier, target)
    with open(path, "w") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return path


def _merged_steps(path: str, record: Dict[str, Any], only: str) -> Dict[str, Any]:
    """The label's record at ``path`` with the steps of ``record`` (the group ``only``) in it."""
    notes = [
        f"``{only}`` steps, {target}: code at ``{record['code']}``, {meta['date']}, "
        f"{meta['runs']} run(s), ``{meta['command']}``; load before ``{meta['load_before']}``, "
        f"after ``{meta['load_after']}``."
        for target, meta in record["meta"].items()
    ]
    if not os.path.exists(path):
        record["notes"] = notes
        return record
    with open(path) as handle:
        earlier: Dict[str, Any] = json.load(handle)
    steps = {key for runs in record["targets"].values() for run in runs for key in run}
    for target, runs in record["targets"].items():
        kept = earlier["targets"].get(target, [])
        merged = []
        for index in range(max(len(kept), len(runs))):
            run = {k: v for k, v in (kept[index] if index < len(kept) else {}).items()
                   if k not in steps}
            run.update(runs[index] if index < len(runs) else {})
            merged.append(run)
        earlier["targets"][target] = merged
        earlier.setdefault("meta", {}).setdefault(target, record["meta"][target])
    earlier["notes"] = [note for note in earlier.get("notes", [])
                        if not note.startswith(f"``{only}`` steps, ")] + notes
    return earlier


def load_all() -> List[Dict[str, Any]]:
    """Every saved record, ``before`` first, then by date."""
    records = []
    for path in glob.glob(os.path.join(RESULTS_DIR, "*.json")):
        with open(path) as handle:
            records.append(json.load(handle))
    return sorted(records, key=lambda r: (r["label"] != "before", r["date"]))


# -- numbers -----------------------------------------------------------------


def _per_run(runs: List[Run], figure: Callable[[Run], Optional[float]]) -> List[float]:
    values = []
    for run in runs:
        try:
            value = figure(run)
        except (KeyError, ZeroDivisionError):
            value = None
        if value is not None:
            values.append(value)
    return values


def _spread(values: List[float], digits: int = 1, unit: str = "") -> str:
    """``median unit [min–max]`` of per-run values (no range when they agree); ``—`` if none."""
    if not values:
        return "—"
    text = f"{statistics.median(values):.{digits}f}{unit}"
    low, high = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
    if low != high:
        text += f" [{low}–{high}]"
    return text


def _seconds(key: str) -> Callable[[Run], float]:
    return lambda run: run[key]["seconds"]


def _ratio(numerator: str, denominator: str) -> Callable[[Run], float]:
    """How many times faster ``denominator``'s time is than ``numerator``'s, within a run."""
    return lambda run: run[numerator]["seconds"] / run[denominator]["seconds"]


def _per_file(key: str, field: str = "requests") -> Callable[[Run], float]:
    return lambda run: run[key][field] / run[key]["files"]


def _field(key: str, field: str, scale: float = 1.0) -> Callable[[Run], float]:
    return lambda run: run[key][field] * scale


def _cpu_per_request(key: str) -> Callable[[Run], float]:
    return lambda run: run[key]["cpu_seconds"] * 1000 / run[key]["requests"]


def _per_call_over_rtt(key: str, sizes: Dict[str, Any]) -> Callable[[Run], float]:
    return lambda run: run[key]["seconds"] * 1000 / sizes["calls"] - sizes["rtt_ms"]


# -- the summary table ---------------------------------------------------------


class _Figures:
    """Formats one column's figures from its runs."""

    def __init__(self, runs: List[Run], sizes: Dict[str, Any]) -> None:
        self.runs = runs
        self.sizes = sizes

    def __call__(self, figure: Callable[[Run], float], digits: int = 1, unit: str = "") -> str:
        return _spread(_per_run(self.runs, figure), digits, unit)

    def has(self, key: str) -> bool:
        return any(key in run for run in self.runs)

    def times(self, slower: str, faster: str) -> str:
        """`` (N x)``: how many times faster ``faster`` was, within each run; empty without it."""
        if not (self.has(slower) and self.has(faster)):
            return ""
        return f" ({self(_ratio(slower, faster), 2, 'x')})"

    def of_curl(self, step: str) -> str:
        return self(_ratio(f"{step}.curl", f"{step}.{self.who}"), 2, "x curl")

    who = "new"


def _old_cells(runs: List[Run], sizes: Dict[str, Any]) -> List[str]:
    f = _Figures(runs, sizes)
    if not f.has("calls.old"):
        return ["—"] * len(TARGETS)
    f.who = "old"
    return [
        f"{f(_seconds('calls.old'), 1, ' s')}, "
        f"{f(_field('calls.old', 'connections'), 0, ' connections')}",
        f"{f(_seconds('upload.old.w1'), 1, ' s')}, "
        f"{f(_per_file('upload.old.w1'), 2)} requests per file",
        "—",
        f"{f(_seconds('rerun.old.w1'), 1, ' s')}, "
        f"{f(_per_file('rerun.old.w1'), 2)} requests per file, "
        f"{f(_field('rerun.old.w1', 'upload_bytes', 1e-6), 2, ' MB')} sent",
        f"{f(_seconds('download.old.w1'), 1, ' s')}, "
        f"{f(_per_file('download.old.w1'), 2)} requests per file",
        "— (refuses an existing directory)",
        f"{f.of_curl('big_up')}, {f(_field('big_up.old', 'peak_rss_mib'), 0, ' MiB')}",
        f"{f.of_curl('big_down')}, {f(_field('big_down.old', 'peak_rss_mib'), 0, ' MiB')}",
    ]


def _new_cells(runs: List[Run], sizes: Dict[str, Any]) -> List[str]:
    f = _Figures(runs, sizes)
    return [
        f"{f(_seconds('calls.new'), 1, ' s')}{f.times('calls.old', 'calls.new')}, "
        f"{f(_field('calls.new', 'connections'), 0, ' connection(s)')}; RTT + "
        f"{f(_per_call_over_rtt('calls.new', sizes), 2, ' ms')} per call",
        f"{f(_seconds('upload.new.w1'), 1, ' s')}{f.times('upload.old.w1', 'upload.new.w1')}, "
        f"{f(_per_file('upload.new.w1'), 2)} requests per file",
        f"{f(_seconds('upload.new.w8'), 1, ' s')}{f.times('upload.old.w1', 'upload.new.w8')}",
        f"{f(_seconds('rerun.new.w1'), 1, ' s')} (w1), {f(_seconds('rerun.new.w8'), 1, ' s')} "
        f"(w8); {f(_per_file('rerun.new.w1'), 2)} requests per file, "
        f"{f(_field('rerun.new.w1', 'upload_bytes', 1e-6), 2, ' MB')} sent",
        f"{f(_seconds('download.new.w1'), 1, ' s')}"
        f"{f.times('download.old.w1', 'download.new.w1')}, "
        f"{f(_per_file('download.new.w1'), 2)} requests per file",
        f"{f(_seconds('redownload.new.w1'), 1, ' s')} (w1), "
        f"{f(_per_file('redownload.new.w1'), 2)} requests per file",
        f"{f.of_curl('big_up')}, {f(_field('big_up.new', 'peak_rss_mib'), 0, ' MiB')}",
        f"{f.of_curl('big_down')}, {f(_field('big_down.new', 'peak_rss_mib'), 0, ' MiB')}",
    ]


def _work(sizes: Dict[str, Any]) -> List[str]:
    tree = f"{sizes['files']:,} × {sizes['file_kib']} KiB in {sizes['folders']} folders"
    big = f"{sizes['big_mib']} MiB" if sizes["big_mib"] != 1024 else "1 GiB"
    return [
        f"{sizes['calls']:,} small calls (``folder_get``), {sizes['rtt_ms']:g} ms RTT",
        f"upload {tree}, workers=1",
        "same, workers=8",
        "re-run of that upload, unchanged",
        "download of that tree, workers=1",
        "re-run of that download, unchanged",
        f"{big} upload, ``pydas.upload`` vs ``curl -T``",
        f"{big} download, ``pydas.download`` vs ``curl``",
    ]


TARGETS = [
    "per call ≤ RTT + 1.5 ms",
    "≥ 2.5x the old client",
    "≥ 15x the old client at one worker",
    "≤ 0.05 requests per file, 0 bytes sent",
    "≥ 1.5x the old client",
    "≤ 0.05 requests per file",
    "≥ 0.9x curl, ≤ 64 MiB",
    "≥ 0.9x curl, ≤ 64 MiB",
]


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    """A reST list-table (cells may be long)."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header] + rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return lines + [""]


def _summary(records: List[Dict[str, Any]], target: str) -> List[str]:
    with_target = [r for r in records if r["targets"].get(target)]
    if not with_target:
        return []
    sizes = with_target[0]["sizes"]
    first_runs = with_target[0]["targets"][target]
    columns = [_old_cells(first_runs, sizes)]
    header = ["work", "old pydas 0.3.6"]
    for record in with_target:
        columns.append(_new_cells(record["targets"][target], record["sizes"]))
        header.append(f"pydas, {record['label']}")
    header.append("target")
    rows = []
    for index, work in enumerate(_work(sizes)):
        rows.append([work] + [column[index] for column in columns] + [TARGETS[index]])
    intro = []
    if not any(_meta(record, target).get("old_client") for record in with_target):
        intro = ["The old client is not run here (see *Runs*); the targets are the",
                 "emulator table's, where the ratios to the old client are taken.", ""]
    return intro + _table(header, rows)


def _cell(runs: List[Run], figure: Callable[[Run], float], digits: int,
          shown: bool = True) -> str:
    """A figure over the runs, saying so when only some runs have it."""
    if not shown:
        return "—"
    values = _per_run(runs, figure)
    text = _spread(values, digits)
    if values and len(values) < len(runs):
        text += f" ({len(values)} of {len(runs)} runs)"
    return text


def _details(record: Dict[str, Any], target: str) -> List[str]:
    runs = record["targets"][target]
    keys = [key for key in record["steps"] if any(key in run for run in runs)]
    rows = []
    for key in keys:
        present = [run for run in runs if key in run]
        proxied = "requests" in present[0][key]
        rows.append([
            f"``{key}``",
            _cell(runs, _seconds(key), 2),
            _cell(runs, _field(key, "peak_rss_mib"), 0),
            _cell(runs, _field(key, "requests"), 0, proxied),
            _cell(runs, _field(key, "connections"), 0, proxied),
            _cell(runs, _field(key, "upload_bytes", 1e-6), 2, proxied),
            _cell(runs, _field(key, "cpu_seconds"), 2),
            _cell(runs, _cpu_per_request(key), 2, proxied),
        ])
    header = ["step", "seconds", "peak RSS (MiB)", "requests", "connections",
              "upload.perform MB", "client CPU (s)", "client CPU per request (ms)"]
    return _table(header, rows)


def _meta(record: Dict[str, Any], target: str) -> Dict[str, Any]:
    """The conditions of one target's runs (records of the first format kept them at the top)."""
    meta = record.get("meta", {}).get(target)
    if meta is None:
        keys = ("date", "load_before", "load_after", "runs", "command")
        meta = {key: record.get(key) for key in keys}
        meta["old_client"] = True
    return meta


def _record_notes(record: Dict[str, Any]) -> List[str]:
    lines = [
        f"* ``{record['label']}``: code at ``{record['code']}``; {record['machine']}.",
        f"  Clients: {record['clients']}.",
    ]
    for target in record["targets"]:
        meta = _meta(record, target)
        old = "" if meta.get("old_client") else " (without the old client)"
        lines += [
            f"  {target}{old}: {meta['date']}, {meta['runs']} run(s), "
            f"``{meta['command']}``; load (``uptime``) before ``{meta['load_before']}``, "
            f"after ``{meta['load_after']}``.",
        ]
    lines += [f"  {note}" for note in record.get("notes", [])]
    return lines


HOW = """\
How the figures are obtained
----------------------------

* **Processes.** The emulator (``pydas.testing.MidasServer``) runs in its own
  process; every measured client runs in a fresh process (``client_tasks.py``
  for pydas, ``old_client.py`` for pydas 0.3.6, or ``curl``). A task logs in
  first and is timed from then on: interpreter start-up, imports and log-in
  are not counted. ``curl`` is timed as a whole process (its start-up is a few
  milliseconds) and its upload token / bitstream id are made beforehand.
* **Network.** Calls, tree uploads and tree downloads go through the
  user-space proxy ``latency_proxy.py`` on 127.0.0.1, which delays each chunk
  by half the RTT in each direction and holds a new connection's first bytes
  back for one more RTT (the TCP handshake). Kernel ``netem`` is not available
  here. The proxy also counts, on the wire (``http_tally.py``), the connections
  opened, the HTTP requests by API method, and the body bytes of
  ``upload.perform``; counts include the task's log-in. Big files go straight
  to the server: on the loopback the floor is the server and the disk.
* **Data.** Every upload uses fresh random bytes (``local_data.py``): Midas
  skips the transfer of content it already holds, which would make a second
  upload of the same bytes look free. The tree has files in
  ``series00``…``series09``; the big file is non-repeating.
* **Re-runs.** ``pydas.upload(..., reuse_existing=True)`` of the unchanged tree,
  and ``pydas.download`` into the same directory after
  ``allow_existing_download_paths()``. The old client re-runs the upload with
  ``reuse_existing=True``; it cannot re-run a download (it refuses an
  existing directory).
* **Old client.** pydas 0.3.6 from PyPI in its own virtualenv (see the
  docstring of ``old_client.py``: its ``api.py`` is executed with its two
  implicit relative imports made absolute, nothing else changed, and its
  ``_upload_folder_recursive`` / ``_upload_as_item`` /
  ``_download_folder_recursive`` / ``_download_item`` are called with the
  destination's id, which is what its ``upload`` / ``download`` do after the
  path lookup).
* **Client CPU** is the task process's user + system time during the measured
  part (all its threads), from ``getrusage``; per request, divided by the
  requests counted on the wire.
* **Peak memory** is the process's ``VmHWM``, reported by a Python task
  itself at its end and sampled every 5 ms for ``curl`` (``procs.py``).
* **Statistics.** Each figure is the median of the runs, with the range
  ``[min–max]`` when they differ; a ratio (``1.77x``: how many times faster
  than the old client; ``0.57x curl``: the fraction of curl's throughput,
  i.e. curl's time over the client's) is taken within each run, then its
  median and range are given.
"""


#: Hand-written after a run: which targets are met, and the floor that stops the others.
VERDICT = os.path.join(RESULTS_DIR, "verdict.rst")


def _verdict() -> List[str]:
    """The text of :data:`VERDICT` (a reST section of its own), if it exists."""
    if not os.path.exists(VERDICT):
        return []
    with open(VERDICT, encoding="utf-8") as handle:
        return handle.read().rstrip("\n").splitlines() + [""]


def render(records: List[Dict[str, Any]]) -> str:
    """The text of ``RESULTS.rst``."""
    out = [
        "Benchmark results",
        "=================",
        "",
        "Written by ``python benchmarks/run.py`` from ``benchmarks/results/*.json``;",
        "do not edit by hand. Investigations against the real server are in",
        "``benchmarks/NOTES.rst``. These are comparisons on one shared machine, not",
        "promises: rerun the harness to compare a change with its parent.",
        "",
        "Runs",
        "----",
        "",
    ]
    for record in records:
        out += _record_notes(record)
    out.append("")
    targets = []
    for record in records:
        for target in record["targets"]:
            if target not in targets:
                targets.append(target)
    for target in targets:
        title = f"Summary: {target}"
        out += [title, "-" * len(title), ""]
        out += _summary(records, target)
    out += _verdict()
    for record in records:
        for target, runs in record["targets"].items():
            if not runs:
                continue
            title = f"Every step: {target}, {record['label']}"
            out += [title, "-" * len(title), ""]
            out += _details(record, target)
    out.append(HOW)
    return "\n".join(out)
