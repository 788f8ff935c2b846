#!/usr/bin/env python3
"""Issue 6's benchmark: targetwatch against a pandas and a DuckDB reference, in one run.

    .venv/bin/python benchmarks/run.py --scale small|medium|large [--reps 3] [--cold-reps 10]

1. Generates the workload if needed (generate.py).
2. Checks that targetwatch computes what the references compute: the statuses of the library
   (``Engine.from_config(...).check(as_of=...)``, in a child process) and of every CLI run
   timed (the outputs of its first repetition) must equal the pandas and the DuckDB
   reference's on every rule and series. Any difference prints the first mismatches and
   exits 1.
3. Times, interleaved (the order rotates each repetition), whole processes, each writing every
   verdict to a file: ``core``, the pure-Python path (``reader = "python"``, what an install
   without the ``fast`` extra runs), ``check --dry-run --format json``; ``fast``, the same with
   pyarrow reading the CSV; ``fast-csv``, the same writing ``--format csv`` (the output closest
   to the references'); ``parquet``, the fast path reading ``data.parquet``; ``state``,
   ``check --format json`` with state and a file channel (a fresh state folder each
   repetition); the pandas and the DuckDB reference. Wall time by ``time.perf_counter``
   around the child, peak RSS by ``/usr/bin/time -f %M``. ``--cases core,fast`` times fewer.
4. Cold start: ``targetwatch --version`` and ``targetwatch check --dry-run`` on the repo's seed
   example, medians of ``--cold-reps`` whole-process runs (hyperfine when installed).

Prints a Markdown report and writes it to ``benchmarks/results-<scale>.md``. Every child is
bounded by ``--timeout`` seconds (killed with its process group after that).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate

Statuses = dict[tuple[str, str], str]
TIME = "/usr/bin/time"  # GNU time, for each child's own peak RSS (see run_child)


# -- children -------------------------------------------------------------------------------


class Child:
    """One finished child process: wall seconds, peak RSS (MiB), exit code."""

    def __init__(self, seconds: float, rss_mib: float, code: int) -> None:
        self.seconds, self.rss_mib, self.code = seconds, rss_mib, code


def run_child(cmd: list[str], *, stdout: Path | None = None, env: dict[str, str] | None = None,
              cwd: Path | None = None, timeout: float = 3600, ok_codes: tuple[int, ...] = (0,), rss: bool = True) -> Child:
    """Run ``cmd`` to completion and measure its wall time and its own peak RSS.

    The RSS comes from ``/usr/bin/time -f %M`` when installed. Not from this process's wait4 or
    RUSAGE_CHILDREN: Linux carries the parent's RSS at fork over into the child's ru_maxrss, so
    once run.py holds the verdicts it compares (GiBs at medium), every child would report at
    least that. The fallback (no /usr/bin/time) is wait4, exact only while run.py is small."""
    rss_file = None
    if rss and Path(TIME).exists():
        rss_file = Path(f"/tmp/tw-bench-rss-{os.getpid()}.txt")
        cmd = [TIME, "-f", "%M", "-o", str(rss_file), *cmd]
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err_path = (stdout.with_suffix(stdout.suffix + ".err") if stdout else None)
    err = open(err_path, "wb") if err_path else subprocess.PIPE
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        stderr_text = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
        if err_path:
            err.close()  # type: ignore[union-attr]
    if code not in ok_codes:
        if err_path:
            stderr_text = err_path.read_text(errors="replace")
        what = "killed after the timeout" if code == -signal.SIGKILL else f"exit status {code}"
        raise SystemExit(f"run.py: {' '.join(cmd)}: {what}\n{stderr_text[-3000:]}")
    rss_kib = usage.ru_maxrss
    if rss_file is not None:
        lines = rss_file.read_text().split()
        rss_file.unlink()
        rss_kib = int(lines[-1]) if lines and lines[-1].isdigit() else rss_kib
    return Child(seconds, rss_kib / 1024, code)


def targetwatch_cmd() -> list[str]:
    script = Path(sys.executable).parent / "targetwatch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "targetwatch"]


# -- statuses -------------------------------------------------------------------------------


def statuses_from_json(path: Path) -> Statuses:
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if doc.get("problems"):
        raise SystemExit(f"run.py: targetwatch reported problems in {path}: {doc['problems'][:3]}")
    out = {(v["rule"], v["labels"].get("region", "")): v["status"] for v in doc["verdicts"]}
    if len(out) != len(doc["verdicts"]):
        raise SystemExit(f"run.py: {path}: two verdicts for one rule and series")
    return out


def statuses_from_csv(path: Path) -> Statuses:
    with open(path, encoding="utf-8", newline="") as fh:
        return {(r["rule"], r["region"]): r["status"] for r in csv.DictReader(fh)}


def compare(name: str, got: Statuses, want: Statuses, want_name: str, limit: int = 15) -> list[str]:
    """Mismatches of ``got`` against ``want`` (missing and extra verdicts included)."""
    bad = sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))
    lines = [f"{name} vs {want_name}: {len(bad)} of {len(want.keys() | got.keys())} verdicts differ"] if bad else []
    for rule, region in bad[:limit]:
        lines.append(f"  {rule} region={region}: {name} {got.get((rule, region), '(none)')}, "
                     f"{want_name} {want.get((rule, region), '(none)')}")
    return lines


def library_statuses(config: str, out: str, as_of: str) -> int:
    """Child mode: judge through the library and write rule,region,status (and timings)."""
    started = time.perf_counter()
    from targetwatch.engine import Engine

    engine = Engine.from_config(config)
    loaded = time.perf_counter()
    result = engine.check(as_of=as_of)
    checked = time.perf_counter()
    if result.problems:
        print(f"problems: {[p.message for p in result.problems[:3]]}", file=sys.stderr)
        return 3
    with open(out, "w", encoding="utf-8", newline="") as fh:
        fh.write("rule,region,status\n")
        fh.writelines(f"{v.rule},{dict(v.labels).get('region', '')},{v.status.value}\n" for v in result.verdicts)
    print(json.dumps({"config_s": loaded - started, "check_s": checked - loaded, "verdicts": len(result.verdicts)}))
    return 0


# -- the benchmark --------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"], capture_output=True, text=True, timeout=10)
        if not dirty.stdout.strip():
            return out.stdout.strip()
        import hashlib

        diff = subprocess.run(["git", "-C", str(REPO), "diff", "HEAD", "--", "src"], capture_output=True, timeout=30).stdout
        return f"{out.stdout.strip()} + uncommitted changes to src (diff sha1 {hashlib.sha1(diff).hexdigest()[:10]})"
    except (OSError, subprocess.SubprocessError):
        return "?"


def cold_start(reps: int, timeout: float) -> dict[str, list[float]]:
    tw = targetwatch_cmd()
    cases = {"targetwatch --version": [*tw, "--version"], "targetwatch check --dry-run (seed example)": [*tw, "check", "--dry-run"]}
    out: dict[str, list[float]] = {}
    hyperfine = shutil.which("hyperfine")
    for name, cmd in cases.items():
        if hyperfine:
            export = Path(f"/tmp/tw-bench-hyperfine-{os.getpid()}.json")
            subprocess.run([hyperfine, "-N", "-i", "--warmup", "2", "--runs", str(reps), "--export-json", str(export),
                            " ".join(cmd)], cwd=REPO, check=True, capture_output=True, timeout=timeout)
            out[name] = json.loads(export.read_text())["results"][0]["times"]
            export.unlink()
        else:
            run_child(cmd, cwd=REPO, timeout=timeout, ok_codes=(0, 1, 2), rss=False)  # warm the page cache
            out[name] = [run_child(cmd, cwd=REPO, timeout=timeout, ok_codes=(0, 1, 2), rss=False).seconds for _ in range(reps)]
    return out


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "_library":
        return library_statuses(*sys.argv[2:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=generate.SCALES, default="small")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions of each run (default 3)")
    parser.add_argument("--cold-reps", type=int, default=10, help="runs of each cold-start case (default 10)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds any one child may take")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("TW_BENCH_CACHE", generate.DEFAULT_CACHE)))
    parser.add_argument("--no-library-check", action="store_true", help="skip the in-process library check (the CLI outputs are still checked)")
    parser.add_argument("--no-state", action="store_true", help="skip the check-with-state runs")
    parser.add_argument("--cases", default="", help="comma-separated targetwatch runs to time (default all: core,fast,fast-csv,parquet,state); the references always run")
    parser.add_argument("--report", type=Path, default=None, help="default benchmarks/results-<scale>.md")
    args = parser.parse_args(argv)

    data = generate.ensure(args.scale, args.seed, args.cache)
    meta = json.loads((data / "meta.json").read_text())
    runs = data / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    tw = targetwatch_cmd()
    project = data / "project"
    py = sys.executable

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    state_root = runs / "state"

    def state_env(rep: int) -> dict[str, str]:
        folder = state_root / f"rep{rep}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return {**os.environ, "TW_BENCH_STATE": str(folder)}

    def tw_case(config: str, fmt: str = "json") -> tuple[list[str], str, bool]:
        return [*tw, "check", "--dry-run", "--format", fmt, "-c", str(project / config)], fmt, True

    cases: dict[str, tuple[list[str], str, bool]] = {
        "core": tw_case("targetwatch-python.toml"),
        "fast": tw_case("targetwatch.toml"),
        "fast-csv": tw_case("targetwatch.toml", "csv"),
        "parquet": tw_case("targetwatch-parquet.toml"),
        "state": ([*tw, "check", "--format", "json", "-c", str(project / "targetwatch-alerting.toml")], "json", True),
        "pandas": ([py, str(HERE / "reference_pandas.py"), str(data)], "csv", False),
        "duckdb": ([py, str(HERE / "reference_duckdb.py"), str(data)], "csv", False),
    }
    if args.no_state:
        del cases["state"]
    if not meta.get("parquet"):
        del cases["parquet"]
    if args.cases:
        wanted = set(args.cases.split(",")) | {"pandas", "duckdb"}
        unknown = wanted - set(cases)
        if unknown:
            raise SystemExit(f"run.py: unknown case(s) {sorted(unknown)}; known: {', '.join(cases)}")
        cases = {k: v for k, v in cases.items() if k in wanted}
    labels = {
        "core": "core path (`reader = \"python\"`): `check --dry-run --format json > file`",
        "fast": "fast path (pyarrow reads the CSV): `check --dry-run --format json > file`",
        "fast-csv": "fast path, verdicts as CSV: `check --dry-run --format csv > file`",
        "parquet": "fast path, Parquet source: `check --dry-run --format json > file`",
        "state": "fast path, `check --format json > file` with state + file channel",
        "pandas": "pandas reference (CSV in, verdicts to CSV)",
        "duckdb": "DuckDB reference (CSV in, verdicts to CSV)",
    }

    library: dict[str, float] = {}
    if not args.no_library_check:
        log(f"[{args.scale}] library check (Engine.from_config(...).check(as_of={meta['as_of']!r})) ...")
        child = run_child([py, str(Path(__file__).resolve()), "_library", str(project / "targetwatch.toml"), str(runs / "library.csv"), meta["as_of"]],
                          stdout=runs / "library.json", timeout=args.timeout)
        library = json.loads((runs / "library.json").read_text())
        library.update(wall_s=child.seconds, rss_mib=child.rss_mib)

    times: dict[str, list[Child]] = {name: [] for name in cases}
    order = list(cases)
    for rep in range(args.reps):
        for name in order[rep % len(order):] + order[: rep % len(order)]:
            cmd, ext, is_tw = cases[name]
            target = runs / f"{name}-{rep}.{ext}"
            log(f"[{args.scale}] rep {rep + 1}/{args.reps}: {name} ...")
            env = state_env(rep) if name == "state" else None
            if is_tw:
                child = run_child(cmd, stdout=target, env=env, timeout=args.timeout, ok_codes=(0, 1, 2))
            else:
                child = run_child([*cmd, str(target)], timeout=args.timeout)
            log(f"    {child.seconds:.2f} s, {child.rss_mib:.0f} MiB")
            times[name].append(child)
        if rep == 0:
            verify(args.scale, runs, cases, library_ran=not args.no_library_check, log=log)
        if rep > 0:  # keep rep 0's outputs (the ones checked) only: at large they are GiBs
            for name, (_, ext, _) in cases.items():
                (runs / f"{name}-{rep}.{ext}").unlink(missing_ok=True)
                (runs / f"{name}-{rep}.{ext}.err").unlink(missing_ok=True)
            shutil.rmtree(state_root / f"rep{rep}", ignore_errors=True)

    log(f"[{args.scale}] cold start ({args.cold_reps} runs each) ...")
    cold = cold_start(args.cold_reps, min(args.timeout, 120))
    report = render(args, meta, data, runs, cases, labels, times, library, cold)
    print(report)
    (args.report or HERE / f"results-{args.scale}.md").write_text(report)
    return 0


def verify(scale: str, runs: Path, cases: dict[str, tuple[list[str], str, bool]], *, library_ran: bool, log) -> None:  # type: ignore[no-untyped-def]
    """Every targetwatch output equals both references on every rule and series, or exit 1."""
    log(f"[{scale}] checking that targetwatch's statuses equal both references' ...")
    pandas, duck = statuses_from_csv(runs / "pandas-0.csv"), statuses_from_csv(runs / "duckdb-0.csv")
    problems = compare("duckdb", duck, pandas, "pandas")
    outputs = [("library", runs / "library.csv")] if library_ran else []
    outputs += [(f"cli-{name}", runs / f"{name}-0.{ext}") for name, (_, ext, is_tw) in cases.items() if is_tw]
    for name, path in outputs:
        got = statuses_from_csv(path) if path.suffix == ".csv" else statuses_from_json(path)
        problems += compare(name, got, pandas, "pandas") + compare(name, got, duck, "duckdb")
        del got
    if problems:
        print("\n".join(["run.py: targetwatch and the references disagree:", *problems]), file=sys.stderr)
        raise SystemExit(1)
    counts = Counter((rule.split(".", 1)[0], status) for (rule, _), status in pandas.items())
    (runs / "statuses.json").write_text(json.dumps({f"{r} {s}": n for (r, s), n in sorted(counts.items())}, indent=1))
    log(f"[{scale}] all {len(pandas):,} verdicts agree ({', '.join(n for n, _ in outputs)}, pandas, duckdb)")


def render(args, meta, data, runs, cases, labels, times, library, cold) -> str:  # type: ignore[no-untyped-def]
    med = {name: statistics.median(c.seconds for c in cs) for name, cs in times.items()}
    rss = {name: max(c.rss_mib for c in cs) for name, cs in times.items()}
    counts = json.loads((runs / "statuses.json").read_text())
    verdicts = sum(counts.values())
    lines = [
        f"## Results: {args.scale} ({meta['regions']:,} regions × {meta['indicators']} indicators × {meta['months']} months)",
        "",
        f"- Command: `.venv/bin/python benchmarks/run.py --scale {args.scale} --reps {args.reps} --cold-reps {args.cold_reps}`",
        f"- Data: {meta['rows']:,} rows ({(data / 'data.csv').stat().st_size / 2**20:.0f} MiB CSV), {meta['series']:,} series, "
        f"{verdicts:,} verdicts; as_of {meta['as_of']} ({meta['timezone']}); seed {meta['seed']}",
        f"- Machine: {machine()}; targetwatch at {git_commit()}; {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Checked first: the library{''.join(', ' + n for n, (_, _, t) in cases.items() if t)} give the same "
        f"status as the pandas and the DuckDB reference for all {verdicts:,} rule × series.",
        "",
        f"| run (whole process, {args.reps} repetitions, interleaved) | median s | min – max s | peak RSS MiB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in cases:
        cs = [c.seconds for c in times[name]]
        lines.append(f"| {labels[name]} | {med[name]:.2f} | {min(cs):.2f} – {max(cs):.2f} | {rss[name]:.0f} |")
    if library:
        lines.append(f"| (once, not in the ratios) library `Engine.from_config` + `check()`, no output | "
                     f"{library['config_s'] + library['check_s']:.2f} | config {library['config_s']:.2f} + check {library['check_s']:.2f} | {library['rss_mib']:.0f} |")
    lines += ["", "| ratio | measured | issue 6 target |", "| --- | ---: | --- |"]

    def ratio(a: str, b: str, what: str, target: str, table: dict[str, float] = med) -> None:
        if a in table and b in table:
            lines.append(f"| {labels_short[a]} / {labels_short[b]} ({what}) | {table[a] / table[b]:.2f}× | {target} |")

    labels_short = {"core": "core", "fast": "fast", "fast-csv": "fast, CSV out", "parquet": "Parquet",
                    "state": "check with state", "pandas": "pandas", "duckdb": "DuckDB"}
    ratio("core", "pandas", "time", "≤ 2.0× (medium)")
    ratio("fast", "pandas", "time", "≤ 1.0× (medium)")
    ratio("fast", "duckdb", "time", "≤ 2.0× (medium)")
    ratio("fast-csv", "pandas", "time", "— (same output as the references)")
    ratio("fast-csv", "duckdb", "time", "—")
    ratio("parquet", "pandas", "time", "—")
    ratio("fast", "core", "time", "—")
    ratio("state", "fast", "time", "≤ 1.5× (medium)")
    ratio("core", "pandas", "peak RSS", "≤ 1.0× at large", rss)
    ratio("fast", "pandas", "peak RSS", "≤ 1.0× at large", rss)
    ratio("fast", "duckdb", "peak RSS", "—", rss)
    lines += ["", "| cold start (whole process) | median ms | min – max ms | target |", "| --- | ---: | ---: | --- |"]
    targets = {"targetwatch --version": "≤ 100 ms", "targetwatch check --dry-run (seed example)": "≤ 350 ms"}
    for name, ts in cold.items():
        lines.append(f"| `{name}` ({len(ts)} runs) | {statistics.median(ts) * 1000:.0f} | {min(ts) * 1000:.0f} – {max(ts) * 1000:.0f} | {targets[name]} |")
    sizes = {name: (runs / f"{name}-0.{ext}").stat().st_size / 2**20 for name, (_, ext, is_tw) in cases.items() if is_tw}
    shown = ", ".join(f"{labels_short[n]} {mib:.0f} MiB" for n, mib in sizes.items())
    lines += ["", f"Output sizes: {shown}; the references write `rule,region,status` CSV.",
              "", "Statuses per rule (all outputs agree):", "", "| rule | OK | WARN | BREACH | UNKNOWN | not OK |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    rules = sorted({k.split()[0] for k in counts})
    for rule in rules:
        row = [counts.get(f"{rule} {s}", 0) for s in ("OK", "WARN", "BREACH", "UNKNOWN")]
        total = sum(row)
        lines.append(f"| {rule} | " + " | ".join(f"{n:,}" for n in row) + f" | {(row[1] + row[2]) / total:.0%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
