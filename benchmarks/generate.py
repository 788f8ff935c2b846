#!/usr/bin/env python3
"""Seeded generator of the benchmark workload (issue 6): long-format data and the project.

    python benchmarks/generate.py --scale small|medium|large [--seed 6] [--cache DIR]

Writes into ``DIR/<scale>-s<seed>/`` (default ``benchmarks/.data/``):

- ``data.csv``: ``indicator,region,period,value`` sorted by indicator, region, period; monthly
  periods ending at ``LAST_MONTH``; whole-number values; some series with gaps (missing
  months; some missing their latest months). ``data.parquet`` too when pyarrow is importable.
- ``targets.csv``: per indicator, every rule's parameters (the one place thresholds live: the
  rule files and both references read them from here).
- ``meta.json``: scale, seed, as_of and the calendar facts the references need.
- ``project/``: the targetwatch project rendered from ``benchmarks/project/*.in``:
  ``targetwatch.toml`` (dry run) and ``targetwatch-alerting.toml`` (state + a file channel).

Nothing is rewritten when ``meta.json`` already records the same scale, seed and generator
version. Needs numpy (and pandas or pyarrow to write); see benchmarks/requirements.txt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import string
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = HERE / ".data"
GENERATOR_VERSION = 6

SCALES = {
    "small": (100, 20, 24),  # regions, indicators, months
    "medium": (2_000, 50, 36),
    "large": (10_000, 50, 36),
}

# The moment every check is pinned to. Data ends with LAST_MONTH (closed at AS_OF), so the
# latest observation of a series without gaps is LAST_MONTH for every rule.
AS_OF = "2023-10-16"
LAST_MONTH = (2023, 9)
TIMEZONE = "Asia/Shanghai"  # no DST since 1991: elapsed shares are whole days / whole days
# "last 6 months" as of 2023-10-16 and the progress window (this year, deadline inclusive).
WINDOW = ("2023-04", "2023-09")
YEAR_START, YEAR_END = "2023-01-01", "2023-12-31"
HOPELESS_AT = 2

# Rule constants (percentages as whole numbers so that the references compare integers).
YOY_MIN_PCT, YOY_WARN_MIN_PCT = -3, 0
POP_MIN_PCT, POP_WARN_MIN_PCT = -7, -4
COV_MIN_PCT, COV_WARN_MIN_PCT = 86, 88


def month_label(ordinal: int) -> str:
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def workload_dir(scale: str, seed: int, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / f"{scale}-s{seed}"


def indicator_names(n: int) -> list[str]:
    return [f"ind_{i + 1:02d}" for i in range(n)]


def denominators(names: list[str]) -> dict[str, str]:
    """Coverage pairs: ind_01 / ind_02, ind_03 / ind_04, ... (numerator -> denominator)."""
    return {names[i]: names[i + 1] for i in range(0, len(names) - 1, 2)}


def targets(names: list[str]) -> list[dict[str, object]]:
    """Every rule's parameters per indicator, scaled by the indicator's level."""
    dens = denominators(names)
    rows = []
    for i, name in enumerate(names):
        base = round(1000 * 1.5 ** (i // 2 % 5))
        # A numerator runs at ~92 % of its denominator (coverage shares drawn in 0.84..1.0).
        level = round(base * 0.92) if name in dens else base
        rows.append(
            {
                "indicator": name,
                "level": level,
                "latest_min": round(0.70 * level),
                "latest_warn_min": round(0.78 * level),
                "cap_max": round(1.36 * level),
                "cap_warn_at": round(1.28 * level),
                "yoy_min_pct": YOY_MIN_PCT,
                "yoy_warn_min_pct": YOY_WARN_MIN_PCT,
                "pop_min_pct": POP_MIN_PCT,
                "pop_warn_min_pct": POP_WARN_MIN_PCT,
                "denominator": dens.get(name, ""),
                "cov_min_pct": COV_MIN_PCT,
                "cov_warn_min_pct": COV_WARN_MIN_PCT,
                "sum6_min": round(6 * 0.68 * level),
                "sum6_warn_below": round(6 * 0.76 * level),
                "ytd_target": round(12 * 0.75 * level),
                "hopeless_at": HOPELESS_AT,
            }
        )
    return rows


def generate_frame(scale: str, seed: int) -> dict[str, np.ndarray]:
    """The observations as columns (indicator index, region index, month ordinal, value)."""
    n_reg, n_ind, n_mon = SCALES[scale]
    rng = np.random.default_rng(seed)
    last = LAST_MONTH[0] * 12 + LAST_MONTH[1] - 1
    months = np.arange(last - n_mon + 1, last + 1)
    names = indicator_names(n_ind)
    dens = denominators(names)
    levels = np.array([t["level"] for t in targets(names)], dtype=np.float64)

    # Per series (indicator, region): a level factor, an annual trend; per month: noise.
    shape = (n_ind, n_reg, n_mon)
    factor = rng.uniform(0.62, 1.40, size=(n_ind, n_reg, 1))
    trend = rng.normal(0.05, 0.05, size=(n_ind, n_reg, 1))
    years_back = ((months - last) / 12.0)[None, None, :]
    noise = rng.normal(0.0, 0.04, size=shape)
    values = levels[:, None, None] * factor * (1 + trend) ** years_back * (1 + noise)
    # Coverage numerators are a share of their denominator, month by month.
    index = {name: i for i, name in enumerate(names)}
    for num, den in dens.items():
        share = rng.uniform(0.84, 1.0, size=(n_reg, 1)) * (1 + rng.normal(0, 0.01, size=(n_reg, n_mon)))
        values[index[num]] = values[index[den]] * share
    values = np.maximum(np.rint(values), 1).astype(np.int64)

    # Gaps: 6 % of series lose ~15 % of their months at random; 3 % lose their last 1-2 months.
    keep = np.ones(shape, dtype=bool)
    holey = rng.random((n_ind, n_reg)) < 0.06
    keep &= ~(holey[:, :, None] & (rng.random(shape) < 0.15))
    stale = rng.random((n_ind, n_reg)) < 0.03
    cut = rng.integers(1, 3, size=(n_ind, n_reg))
    position = np.arange(n_mon)[None, None, :]
    keep &= ~(stale[:, :, None] & (position >= n_mon - cut[:, :, None]))
    keep[:, :, 0] |= ~keep.any(axis=2)  # never an empty series

    ii, rr, mm = np.nonzero(keep)  # C order: indicator, region, month
    return {"ind": ii.astype(np.int32), "reg": rr.astype(np.int32), "month": months[mm], "value": values[ii, rr, mm]}


def write_data(out: Path, scale: str, frame: dict[str, np.ndarray]) -> None:
    n_reg, n_ind, _ = SCALES[scale]
    names = np.array(indicator_names(n_ind), dtype=object)
    regions = np.array([f"R{r + 1:05d}" for r in range(n_reg)], dtype=object)
    uniq = np.unique(frame["month"])
    labels = dict(zip(uniq.tolist(), (month_label(int(m)) for m in uniq)))
    periods = np.array([labels[m] for m in uniq.tolist()], dtype=object)[np.searchsorted(uniq, frame["month"])]
    columns = {
        "indicator": names[frame["ind"]],
        "region": regions[frame["reg"]],
        "period": periods,
        "value": frame["value"],
    }
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        import pandas as pd

        pd.DataFrame(columns).to_csv(out / "data.csv", index=False)
        return
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    # pyarrow quotes the header whatever the quoting style: write a plain one first.
    with open(out / "data.csv", "wb") as fh:
        fh.write(b"indicator,region,period,value\n")
        pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    pq.write_table(table, out / "data.parquet")


def render_project(out: Path, scale: str) -> None:
    """Render benchmarks/project/*.in for this scale into ``out/project``."""
    _, n_ind, _ = SCALES[scale]
    names = indicator_names(n_ind)
    rows = targets(names)
    project = out / "project"
    shutil.rmtree(project, ignore_errors=True)
    (project / "rules").mkdir(parents=True)
    templates = HERE / "project"
    decls = "\n".join(f'[indicators."{n}"]\ntitle = "benchmark indicator {n}"\n' for n in names)
    common = {
        "as_of": AS_OF,
        "last_month": month_label(LAST_MONTH[0] * 12 + LAST_MONTH[1] - 1),
        "csv": str((out / "data.csv").resolve()),
        "indicators": decls,
    }
    csv_path, parquet_path = (out / "data.csv").resolve(), (out / "data.parquet").resolve()
    variants = {
        "targetwatch.toml": f'type = "csv"\npath = "{csv_path}"',
        "targetwatch-python.toml": f'type = "csv"\npath = "{csv_path}"\nreader = "python"',
        "targetwatch-parquet.toml": f'type = "parquet"\npath = "{parquet_path}"',
    }
    body = (templates / "targetwatch.toml.in").read_text()
    for name, source in variants.items():
        (project / name).write_text(string.Template(body).substitute(common, source=source))
    config = (project / "targetwatch.toml").read_text()
    alerting = string.Template((templates / "alerting.toml.in").read_text()).substitute(common)
    (project / "targetwatch-alerting.toml").write_text(config + alerting)
    fixed = {"year_start": YEAR_START, "year_end": YEAR_END}
    for tmpl in sorted((templates / "rules").glob("*.toml.in")):
        text = tmpl.read_text()
        head, _, block = text.partition("[[rule]]")
        parts = [string.Template(head).safe_substitute(hopeless_at=HOPELESS_AT)]
        for row in rows:
            if "coverage" in tmpl.name and not row["denominator"]:
                continue
            values = {"ind": row["indicator"], **fixed, **{k: str(v) for k, v in row.items()}}
            parts.append(string.Template("[[rule]]" + block).substitute(values))
        (project / "rules" / tmpl.name.removesuffix(".in")).write_text("\n".join(parts))


def ensure(scale: str, seed: int = 6, cache: Path = DEFAULT_CACHE, *, quiet: bool = False) -> Path:
    """Generate the workload unless it is already there; return its folder."""
    out = workload_dir(scale, seed, cache)
    meta_path = out / "meta.json"
    stamp = {"scale": scale, "seed": seed, "generator": GENERATOR_VERSION}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in stamp} == stamp and (out / "data.csv").exists():
            render_project(out, scale)  # cheap; picks up template edits
            return out
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    frame = generate_frame(scale, seed)
    write_data(out, scale, frame)
    n_reg, n_ind, n_mon = SCALES[scale]
    rows = targets(indicator_names(n_ind))
    keys = list(rows[0])
    with open(out / "targets.csv", "w", encoding="utf-8") as fh:
        fh.write(",".join(keys) + "\n")
        fh.writelines(",".join(str(row[k]) for k in keys) + "\n" for row in rows)
    render_project(out, scale)
    meta = {
        **stamp,
        "regions": n_reg,
        "indicators": n_ind,
        "months": n_mon,
        "rows": len(frame["value"]),
        "series": n_reg * n_ind,
        "as_of": AS_OF,
        "timezone": TIMEZONE,
        "last_month": month_label(LAST_MONTH[0] * 12 + LAST_MONTH[1] - 1),
        "window": list(WINDOW),
        "year_start": YEAR_START,
        "year_end": YEAR_END,
        "parquet": (out / "data.parquet").exists(),
        "generated_in_s": round(time.perf_counter() - started, 1),
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")  # last: marks the folder complete
    if not quiet:
        print(f"generated {out} ({meta['rows']:,} rows) in {meta['generated_in_s']} s", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("TW_BENCH_CACHE", DEFAULT_CACHE)))
    args = parser.parse_args(argv)
    print(ensure(args.scale, args.seed, args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
