#!/usr/bin/env python3
"""Where the time of a check goes, and what the per-verdict work costs at the least.

    .venv/bin/python benchmarks/floor.py --scale medium [--reps 3]

In one process, after the data is loaded: targetwatch's own phases (load, evaluate, write the
JSON of every verdict), then floors, the least any Python program that keeps one verdict
object per series with its sentence must spend on the same verdicts:

- ``objects``: making the verdict objects alone, from their fields already at hand;
- ``sentences``: ``str.format`` of each verdict's message from its parts already formatted;
- ``json.dumps``: the standard library's C encoder writing every verdict as a plain dict of
  strings and numbers (no Decimal to convert, no streaming);

and, in a child process of the same run, the pandas reference doing the whole job. The report
is the medians in seconds and each as a ratio of the pandas reference's.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    """Seconds ``fn()`` takes, the cyclic collector paused as ``evaluate`` pauses it."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="small", choices=sorted(generate.SCALES))
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)

    from targetwatch.default_plugins.json_encoding import json_number
    from targetwatch.engine import CheckResult, Engine, evaluate
    from targetwatch.model import Verdict
    from targetwatch.output import OutputOptions
    from targetwatch.plugins import Registry

    data_dir = generate.ensure(args.scale, args.seed)
    config = data_dir / "project" / "targetwatch.toml"
    registry = Registry()
    engine = Engine.from_config(config, registry=registry)
    rules = engine.select()
    moment = engine.moment(None)
    times: dict[str, list[float]] = {}
    held: dict[str, object] = {}

    def load() -> None:
        held["data"] = engine.load(engine.request(rules, moment))[0]

    def judge() -> None:
        held["verdicts"] = evaluate(rules, held["data"], moment, engine.calendar, registry.kinds,  # type: ignore[arg-type]
                                    engine.indicators)

    def write() -> None:
        result = CheckResult(moment, tuple(held["verdicts"]), ())  # type: ignore[arg-type]
        registry.outputs["json"].write(result, OutputOptions(), io.StringIO())

    for _ in range(args.reps):
        held.clear()  # the last repetition's objects are freed before, not within, a timed step
        for name, fn in (("load", load), ("evaluate", judge), ("write JSON", write)):
            times.setdefault(name, []).append(timed(fn))
    verdicts: list[Verdict] = held["verdicts"]  # type: ignore[assignment]

    fields = [(v.rule, v.title, v.kind, v.indicator, v.labels, v.status, v.message, v.value, v.target, v.margin,
               v.period, v.unit, v.severity, v.tags, v.details) for v in verdicts]
    parts = [(v.indicator, str(v.value), str(v.period), str(v.target)) for v in verdicts]
    plain = [{"rule": v.rule, "title": v.title, "kind": v.kind, "indicator": v.indicator, "labels": dict(v.labels),
              "status": v.status.value, "value": json_number(v.value) if v.value is not None else None,
              "target": json_number(v.target) if v.target is not None else None,
              "margin": json_number(v.margin) if v.margin is not None else None,
              "period": str(v.period) if v.period else None, "unit": v.unit, "message": v.message,
              "severity": v.severity, "tags": list(v.tags),
              "details": {k: json_number(x) if hasattr(x, "as_tuple") else x for k, x in v.details.items()},
              "silenced": v.silenced} for v in verdicts]
    template = "{} {} for {} is at least {}"
    floors = {
        "objects": lambda: [Verdict(*f) for f in fields],
        "sentences": lambda: [template.format(*p) for p in parts],
        "json.dumps": lambda: json.dumps({"verdicts": plain}, ensure_ascii=False, separators=(",", ":")),
    }
    for _ in range(args.reps):
        for name, fn in floors.items():
            times.setdefault(name, []).append(timed(fn))

    with tempfile.TemporaryDirectory() as tmp:
        pandas: list[float] = []
        for _ in range(args.reps):
            start = time.perf_counter()
            subprocess.run([sys.executable, str(HERE / "reference_pandas.py"), str(data_dir), str(Path(tmp) / "out.csv")],
                           check=True, stdout=subprocess.DEVNULL)
            pandas.append(time.perf_counter() - start)
    reference = statistics.median(pandas)

    print(f"scale {args.scale}: {len(verdicts):,} verdicts; medians of {args.reps}; pandas reference (whole process) "
          f"{reference:.2f} s")
    print()
    print("| step | median s | × pandas |")
    print("| --- | ---: | ---: |")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {median / reference:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
