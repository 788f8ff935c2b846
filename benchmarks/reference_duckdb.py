#!/usr/bin/env python3
"""The benchmark's seven rules as DuckDB SQL: what a user would otherwise write in SQL.

    python benchmarks/reference_duckdb.py DATA_DIR OUT.csv [--parquet] [--threads N]

Same inputs, output and semantics as reference_pandas.py (see its docstring): one line per
rule and series, ``rule,region,status``, with exactly targetwatch's statuses. Every
comparison is on integers (percentages and the elapsed share multiplied out), as targetwatch
compares exactly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import duckdb


def month(text: str) -> int:
    return int(text[:4]) * 12 + int(text[5:7]) - 1


SQL = """
CREATE TEMP TABLE obs AS
SELECT indicator, region, value::BIGINT AS value,
       CAST(substr(period, 1, 4) AS INTEGER) * 12 + CAST(substr(period, 6, 2) AS INTEGER) - 1 AS m
FROM {source}
WHERE CAST(substr(period, 1, 4) AS INTEGER) * 12 + CAST(substr(period, 6, 2) AS INTEGER) - 1 <= {as_of_m};

CREATE TEMP TABLE t AS SELECT * FROM read_csv('{targets}', header = true, all_varchar = false,
    types = {{'denominator': 'VARCHAR'}});

CREATE TEMP TABLE latest AS
SELECT indicator, region, arg_max(value, m) AS value FROM obs GROUP BY ALL;

CREATE TEMP TABLE cur AS
SELECT indicator, region, max(m) AS m, arg_max(value, m) AS value FROM obs WHERE m < {as_of_m} GROUP BY ALL;

COPY (
  SELECT 'latest-min.' || l.indicator AS rule, l.region,
         CASE WHEN l.value < t.latest_min THEN 'BREACH' WHEN l.value < t.latest_warn_min THEN 'WARN' ELSE 'OK' END AS status
  FROM latest l JOIN t USING (indicator)
  UNION ALL
  SELECT 'latest-cap.' || l.indicator, l.region,
         CASE WHEN l.value > t.cap_max THEN 'BREACH' WHEN l.value > t.cap_warn_at THEN 'WARN' ELSE 'OK' END
  FROM latest l JOIN t USING (indicator)
  UNION ALL
  SELECT 'growth-yoy.' || l.indicator, l.region,
         CASE WHEN c.value IS NULL OR b.value IS NULL OR b.value <= 0 THEN 'UNKNOWN'
              WHEN 100 * (c.value - b.value) < t.yoy_min_pct * b.value THEN 'BREACH'
              WHEN 100 * (c.value - b.value) < t.yoy_warn_min_pct * b.value THEN 'WARN' ELSE 'OK' END
  FROM latest l JOIN t USING (indicator)
  LEFT JOIN cur c ON c.indicator = l.indicator AND c.region = l.region
  LEFT JOIN obs b ON b.indicator = l.indicator AND b.region = l.region AND b.m = c.m - 12
  UNION ALL
  SELECT 'growth-pop.' || l.indicator, l.region,
         CASE WHEN c.value IS NULL OR b.value IS NULL OR b.value <= 0 THEN 'UNKNOWN'
              WHEN 100 * (c.value - b.value) < t.pop_min_pct * b.value THEN 'BREACH'
              WHEN 100 * (c.value - b.value) < t.pop_warn_min_pct * b.value THEN 'WARN' ELSE 'OK' END
  FROM latest l JOIN t USING (indicator)
  LEFT JOIN cur c ON c.indicator = l.indicator AND c.region = l.region
  LEFT JOIN obs b ON b.indicator = l.indicator AND b.region = l.region AND b.m = c.m - 1
  UNION ALL
  SELECT 'coverage.' || l.indicator, l.region,
         CASE WHEN p.den IS NULL OR p.den <= 0 THEN 'UNKNOWN'
              WHEN 100 * p.num < t.cov_min_pct * p.den THEN 'BREACH'
              WHEN 100 * p.num < t.cov_warn_min_pct * p.den THEN 'WARN' ELSE 'OK' END
  FROM latest l JOIN t USING (indicator)
  LEFT JOIN (
      SELECT n.indicator, n.region, arg_max(n.value, n.m) AS num, arg_max(d.value, n.m) AS den
      FROM obs n JOIN t tn ON tn.indicator = n.indicator
      JOIN obs d ON d.indicator = tn.denominator AND d.region = n.region AND d.m = n.m
      GROUP BY ALL
  ) p ON p.indicator = l.indicator AND p.region = l.region
  WHERE t.denominator IS NOT NULL AND t.denominator <> ''
  UNION ALL
  SELECT 'six-month-sum.' || l.indicator, l.region,
         CASE WHEN h.total IS NULL THEN 'UNKNOWN'
              WHEN h.n < {h1} - {h0} + 1 AND h.total < t.sum6_warn_below THEN 'UNKNOWN'
              WHEN h.total < t.sum6_min THEN 'BREACH'
              WHEN h.total < t.sum6_warn_below THEN 'WARN' ELSE 'OK' END
  FROM latest l JOIN t USING (indicator)
  LEFT JOIN (SELECT indicator, region, sum(value) AS total, count(*) AS n FROM obs WHERE m BETWEEN {h0} AND {h1} GROUP BY ALL) h
    ON h.indicator = l.indicator AND h.region = l.region
  UNION ALL
  SELECT 'ytd-pace.' || l.indicator, l.region,
         CASE WHEN y.done >= t.ytd_target OR y.done * {e_den} >= t.ytd_target * {e_num} THEN 'OK'
              WHEN y.n < y.newest - {w0} + 1 THEN 'UNKNOWN'
              WHEN (t.ytd_target - y.done) * {e_num} >= t.hopeless_at * y.done * ({e_den} - {e_num}) THEN 'BREACH'
              ELSE 'WARN' END
  FROM latest l JOIN t USING (indicator)
  JOIN (SELECT indicator, region, sum(CASE WHEN m BETWEEN {w0} AND {w1} THEN value ELSE 0 END)::HUGEINT AS done,
               count(CASE WHEN m BETWEEN {w0} AND {w1} THEN 1 END) AS n,
               coalesce(max(CASE WHEN m BETWEEN {w0} AND {w1} THEN m END), {w0} - 1) AS newest
        FROM obs GROUP BY ALL) y ON y.indicator = l.indicator AND y.region = l.region
) TO '{out}' (HEADER, DELIMITER ',');
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--parquet", action="store_true", help="read data.parquet instead of data.csv")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = parser.parse_args(argv)
    meta = json.loads((args.data_dir / "meta.json").read_text())
    as_of = dt.date.fromisoformat(meta["as_of"])
    as_of_m = as_of.year * 12 + as_of.month - 1
    h0, h1 = (month(p) for p in meta["window"])
    start, deadline = dt.date.fromisoformat(meta["year_start"]), dt.date.fromisoformat(meta["year_end"])
    if not h1 < as_of_m or not start <= as_of <= deadline:
        raise SystemExit("reference_duckdb: the 6-month window must be closed and as_of within the progress window")
    data = (args.data_dir / ("data.parquet" if args.parquet else "data.csv")).resolve()
    source = (
        f"read_parquet('{data}')"
        if args.parquet
        else f"read_csv('{data}', header = true, columns = {{'indicator': 'VARCHAR', 'region': 'VARCHAR', 'period': 'VARCHAR', 'value': 'BIGINT'}})"
    )
    sql = SQL.format(
        source=source,
        targets=(args.data_dir / "targets.csv").resolve(),
        out=args.out.resolve(),
        as_of_m=as_of_m,
        h0=h0,
        h1=h1,
        w0=month(start.isoformat()[:7]) + (start.day > 1),
        w1=month(deadline.isoformat()[:7]),
        e_num=(as_of - start).days,
        e_den=(deadline - start).days + 1,
    )
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    con.execute(sql)
    return 0


if __name__ == "__main__":
    sys.exit(main())
