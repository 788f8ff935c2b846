#!/usr/bin/env python3
"""Profile ``targetwatch check`` on a benchmark scale, in-process, and write the top of it.

    .venv/bin/python benchmarks/profiling.py --scale medium [--state] [--profiler pyinstrument|cprofile]

Runs the CLI exactly as run.py times it (``check --dry-run --format json`` with stdout to a
file; with ``--state`` the check with state and a file channel, fresh state) under pyinstrument
(or cProfile when pyinstrument is missing or asked for) and writes
``benchmarks/profile-<scale>[-state].txt``: the wall time, the functions by self time (flat),
and the call tree trimmed to the frames that matter.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate


def run_cli(args: list[str], stdout_path: Path) -> int:
    from targetwatch.cli import cli

    with open(stdout_path, "w", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        try:
            cli.main(args=args, prog_name="targetwatch")
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=generate.SCALES, default="small")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--state", action="store_true", help="profile the check with state and alerting")
    parser.add_argument("--source", choices=("auto", "python", "parquet"), default="auto",
                        help="which rendered config: CSV read as installed (auto), by the pure-Python reader, or Parquet")
    parser.add_argument("--profiler", choices=("pyinstrument", "cprofile"), default=None)
    parser.add_argument("--top", type=int, default=40, help="rows of the flat listing")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("TW_BENCH_CACHE", generate.DEFAULT_CACHE)))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    data = generate.ensure(args.scale, args.seed, args.cache)
    profiler = args.profiler
    if profiler is None:
        try:
            import pyinstrument  # noqa: F401

            profiler = "pyinstrument"
        except ImportError:
            profiler = "cprofile"

    work = Path(tempfile.mkdtemp(prefix="tw-profile-"))
    name = {"auto": "targetwatch.toml", "python": "targetwatch-python.toml", "parquet": "targetwatch-parquet.toml"}[args.source]
    config = data / "project" / ("targetwatch-alerting.toml" if args.state else name)
    os.environ["TW_BENCH_STATE"] = str(work / "state")
    cli_args = ["check", "--format", "json", "-c", str(config)] + ([] if args.state else ["--dry-run"])
    what = "targetwatch " + " ".join(cli_args) + " > file"
    import targetwatch.cli  # noqa: F401 - imported before timing, as a warm process would be

    started = time.perf_counter()
    if profiler == "pyinstrument":
        from pyinstrument import Profiler
        from pyinstrument.renderers import ConsoleRenderer

        prof = Profiler(interval=0.002)
        prof.start()
        code = run_cli(cli_args, work / "out.json")
        prof.stop()
        wall = time.perf_counter() - started
        session = prof.last_session
        assert session is not None
        flat = ConsoleRenderer(flat=True, show_all=False, unicode=False, color=False).render(session)
        tree = ConsoleRenderer(show_all=False, unicode=False, color=False, processor_options={"filter_threshold": 0.01}).render(session)
        flat_lines = flat.splitlines()
        body = ["## Functions by self time (pyinstrument, flat)", "", *flat_lines[: args.top + 8], "",
                "## Call tree (frames >= 1 % of the time)", "", tree]
    else:
        import cProfile
        import pstats

        prof_c = cProfile.Profile()
        prof_c.enable()
        code = run_cli(cli_args, work / "out.json")
        prof_c.disable()
        wall = time.perf_counter() - started
        buf = io.StringIO()
        stats = pstats.Stats(prof_c, stream=buf)
        stats.sort_stats("tottime").print_stats(args.top)
        buf.write("\n")
        stats.sort_stats("cumulative").print_stats(args.top)
        body = ["## cProfile: by self time, then cumulative", "", buf.getvalue()]
    size = (work / "out.json").stat().st_size / 2**20
    head = [f"# Profile: {args.scale}, {what}", "",
            f"profiler {profiler}; wall {wall:.1f} s under the profiler; exit status {code}; JSON output {size:.0f} MiB",
            f"data {data}", ""]
    suffix = ('-state' if args.state else '') + ('' if args.source == 'auto' else f'-{args.source}')
    out = args.out or HERE / f"profile-{args.scale}{suffix}.txt"
    out.write_text("\n".join(head + body) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
