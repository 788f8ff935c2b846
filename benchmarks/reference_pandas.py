#!/usr/bin/env python3
"""The benchmark's seven rules written as a pandas script: what a user would otherwise write.

    python benchmarks/reference_pandas.py DATA_DIR OUT.csv [--parquet]

Reads ``DATA_DIR/data.csv`` (or ``data.parquet``), ``targets.csv`` and ``meta.json`` (written
by generate.py) and writes one line per rule and series, ``rule,region,status``, with
exactly targetwatch's statuses (OK / WARN / BREACH / UNKNOWN). The semantics reproduced:

- as_of is a date: local midnight. An observation is visible when its month has started
  (month <= as_of's month); a month is closed when it has ended (month < as_of's month).
- latest-min / latest-cap (threshold / cap kinds): the newest visible observation.
  Bounds inclusive; BREACH outside, WARN beyond the warning level.
- growth-yoy / growth-pop: the newest CLOSED observation against the month 12 back / 1 back;
  a missing (or non-positive) base is UNKNOWN. Compared without dividing, on integers:
  100 * (cur - base) >= pct * base.
- coverage: the numerator's newest month for which the denominator (same region) has an
  observation; 100 * num >= pct * den.
- six-month-sum (minimum on "last 6 months"): the sum of the six months before as_of's month;
  none is UNKNOWN; the window is closed at as_of, so BREACH below min, WARN below warn_below;
  with a month of the six missing only an OK stands (a sum can only grow), else UNKNOWN.
- ytd-pace (progress): done = sum of months starting within [start, deadline]; OK once
  done >= target, else on pace when done >= target * elapsed (elapsed = days since start /
  days in the window: exact because as_of is local midnight and the zone has no DST),
  BREACH when (target - done) * elapsed >= hopeless_at * done * (1 - elapsed), else WARN; not
  OK with a month missing before the newest one reported in the window is UNKNOWN.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

KEY = 100_000  # key = series * KEY + month ordinal (months < 100,000)


def month(text: str) -> int:
    if not re.fullmatch(r"\d{4}-\d{2}", text):
        raise SystemExit(f"reference_pandas: only monthly periods are supported; found {text!r}")
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def statuses(conditions: list[np.ndarray], choices: list[str], default: str = "OK") -> np.ndarray:
    return np.select(conditions, choices, default=default)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--parquet", action="store_true", help="read data.parquet instead of data.csv")
    args = parser.parse_args(argv)
    meta = json.loads((args.data_dir / "meta.json").read_text())
    targets = pd.read_csv(args.data_dir / "targets.csv", dtype={"denominator": "string"}).set_index("indicator")

    dtypes = {"indicator": "category", "region": "category", "period": "category", "value": "int64"}
    if args.parquet:
        df = pd.read_parquet(args.data_dir / "data.parquet").astype(dtypes)
    else:
        df = pd.read_csv(args.data_dir / "data.csv", dtype=dtypes)

    as_of = dt.date.fromisoformat(meta["as_of"])
    as_of_m = as_of.year * 12 + as_of.month - 1
    # Each distinct period parsed once, then broadcast through the category codes.
    df["m"] = np.array([month(p) for p in df["period"].cat.categories], dtype=np.int64)[df["period"].cat.codes.to_numpy()]
    df = df[df["m"] <= as_of_m]  # visible: the month has started
    indicators = df["indicator"].cat.categories
    regions = df["region"].cat.categories
    ind = df["indicator"].cat.codes.to_numpy().astype(np.int64)
    sid = ind * len(regions) + df["region"].cat.codes.to_numpy()
    df = df.assign(sid=sid, key=sid * KEY + df["m"].to_numpy()).sort_values("key", kind="stable")
    value_at = pd.Series(df["value"].to_numpy(), index=df["key"].to_numpy())

    t = targets.reindex(indicators)  # per indicator code
    series = df.drop_duplicates("sid", keep="last")[["sid", "m", "value"]].reset_index(drop=True)
    s_ind = (series["sid"] // len(regions)).to_numpy()
    s_region = regions[(series["sid"] % len(regions)).to_numpy()]
    s_name = indicators[s_ind]
    out: list[pd.DataFrame] = []

    def emit(prefix: str, names: np.ndarray, region: np.ndarray, status: np.ndarray) -> None:
        out.append(pd.DataFrame({"rule": prefix + "." + pd.Series(np.asarray(names, dtype=object)), "region": np.asarray(region), "status": status}))

    def param(column: str, codes: np.ndarray) -> np.ndarray:
        return t[column].to_numpy()[codes]

    # latest-min (threshold) and latest-cap (cap): the newest visible observation.
    v = series["value"].to_numpy()
    emit("latest-min", s_name, s_region, statuses([v < param("latest_min", s_ind), v < param("latest_warn_min", s_ind)], ["BREACH", "WARN"]))
    emit("latest-cap", s_name, s_region, statuses([v > param("cap_max", s_ind), v > param("cap_warn_at", s_ind)], ["BREACH", "WARN"]))

    # growth: the newest closed observation against a base 12 (or 1) months back.
    closed = df[df["m"] < as_of_m].drop_duplicates("sid", keep="last").set_index("sid")
    cur = closed.reindex(series["sid"])
    has_cur = cur["value"].notna().to_numpy()
    cur_v = cur["value"].fillna(0).to_numpy().astype(np.int64)
    cur_key = cur["key"].fillna(0).to_numpy().astype(np.int64)
    for prefix, back, lo, warn in (("growth-yoy", 12, "yoy_min_pct", "yoy_warn_min_pct"), ("growth-pop", 1, "pop_min_pct", "pop_warn_min_pct")):
        base = value_at.reindex(cur_key - back)
        has_base = base.notna().to_numpy() & has_cur
        b = base.fillna(0).to_numpy().astype(np.int64)
        delta = 100 * (cur_v - b)
        unknown = ~has_base | (b <= 0)
        emit(prefix, s_name, s_region, statuses(
            [unknown, delta < param(lo, s_ind) * b, delta < param(warn, s_ind) * b], ["UNKNOWN", "BREACH", "WARN"]))

    # coverage: numerator / denominator of the same region, newest month both have.
    den_code = pd.Series(np.arange(len(indicators)), index=indicators).reindex(t["denominator"].fillna("")).fillna(-1).to_numpy().astype(np.int64)
    num_rows = df[den_code[df["sid"].to_numpy() // len(regions)] >= 0]
    n_sid = num_rows["sid"].to_numpy()
    d_sid = den_code[n_sid // len(regions)] * len(regions) + n_sid % len(regions)
    den_v = value_at.reindex(d_sid * KEY + num_rows["m"].to_numpy()).to_numpy()
    both = num_rows.assign(den=den_v)[~np.isnan(den_v)].drop_duplicates("sid", keep="last").set_index("sid")
    num_series = series[den_code[s_ind] >= 0]
    c_ind = (num_series["sid"] // len(regions)).to_numpy()
    found = both.reindex(num_series["sid"])
    has = found["den"].notna().to_numpy()
    num = found["value"].fillna(0).to_numpy().astype(np.int64)
    den = found["den"].fillna(0).to_numpy().astype(np.int64)
    emit("coverage", indicators[c_ind], regions[(num_series["sid"] % len(regions)).to_numpy()], statuses(
        [~has | (den <= 0), 100 * num < param("cov_min_pct", c_ind) * den, 100 * num < param("cov_warn_min_pct", c_ind) * den],
        ["UNKNOWN", "BREACH", "WARN"]))

    # six-month-sum (minimum over "last 6 months", closed at as_of): the sum of its months.
    h0, h1 = (month(p) for p in meta["window"])
    if not h1 < as_of_m:
        raise SystemExit("reference_pandas: the 6-month window must be closed at as_of")
    window = df[(df["m"] >= h0) & (df["m"] <= h1)].groupby("sid")["value"].agg(["sum", "count"]).reindex(series["sid"])
    has = window["sum"].notna().to_numpy()
    total = window["sum"].fillna(0).to_numpy().astype(np.int64)
    gap = window["count"].fillna(0).to_numpy() < h1 - h0 + 1
    below_warn = total < param("sum6_warn_below", s_ind)
    emit("six-month-sum", s_name, s_region, statuses(
        [~has | (gap & below_warn), total < param("sum6_min", s_ind), below_warn], ["UNKNOWN", "BREACH", "WARN"]))

    # ytd-pace (progress): the sum of the months starting within the window, on pace.
    start, deadline = dt.date.fromisoformat(meta["year_start"]), dt.date.fromisoformat(meta["year_end"])
    if not start <= as_of <= deadline:
        raise SystemExit("reference_pandas: as_of must fall within the progress window")
    w0 = month(f"{start.year:04d}-{start.month:02d}") + (start.day > 1)
    w1 = month(f"{deadline.year:04d}-{deadline.month:02d}")
    ytd = df[(df["m"] >= w0) & (df["m"] <= w1)].groupby("sid")["m"].agg(["count", "max"]).reindex(series["sid"])
    done = df[(df["m"] >= w0) & (df["m"] <= w1)].groupby("sid")["value"].sum().reindex(series["sid"]).fillna(0).to_numpy().astype(np.int64)
    # Open window: a month missing before the newest one reported is a gap.
    ytd_gap = (ytd["count"].fillna(0) < ytd["max"].fillna(w0 - 1) - w0 + 1).to_numpy()
    elapsed_num, elapsed_den = (as_of - start).days, (deadline - start).days + 1
    target = param("ytd_target", s_ind).astype(np.int64)
    reached = done >= target
    on_pace = done * elapsed_den >= target * elapsed_num
    hopeless = (target - done) * elapsed_num >= param("hopeless_at", s_ind) * done * (elapsed_den - elapsed_num)
    emit("ytd-pace", s_name, s_region, statuses([reached | on_pace, ytd_gap, hopeless], ["OK", "UNKNOWN", "BREACH"], "WARN"))

    pd.concat(out, ignore_index=True).to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
