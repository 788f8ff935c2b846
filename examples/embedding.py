"""Embedding targetwatch in another program: rules from a file, data from memory, verdicts back.

Run it from anywhere: ``python examples/embedding.py``. It judges the bureau's sport-events
target (≥ 50,000 person-times in 2023-H2) against numbers held in a Python list, then against
numbers produced by a function, as of two different moments.
"""

from __future__ import annotations

from pathlib import Path

from targetwatch import Calendar, Engine, Indicator, Status, load_rules
from targetwatch.plugins import Registry

HERE = Path(__file__).resolve().parent
RULE_FILE = HERE.parent / "rules" / "wellbeing.toml"

# Monthly person-times at sport events (illustrative, as in examples/district-education).
ROWS = [
    {"indicator": "sport.event_participants", "period": "2023-07", "value": 6200, "district": "田家庵区"},
    {"indicator": "sport.event_participants", "period": "2023-08", "value": 7900, "district": "田家庵区"},
    {"indicator": "sport.event_participants", "period": "2023-09", "value": 8400, "district": "田家庵区"},
    {"indicator": "sport.event_participants", "period": "2023-10", "value": 2100, "district": "田家庵区"},
]


def main() -> dict[str, str]:
    registry = Registry()
    calendar = Calendar("Asia/Shanghai")
    indicators = {"sport.event_participants": Indicator("sport.event_participants", "参与赛事活动", "人次")}
    rules = load_rules([RULE_FILE], registry.kinds, calendar=calendar, indicators=None)
    events_rule = [r for r in rules if r.id == "sport.events-h2"]

    # 1. In-memory rows.
    engine = Engine(events_rule, sources=[ROWS], calendar=calendar, indicators=indicators, registry=registry)
    mid_october = engine.check(as_of="2023-10-16")
    for verdict in mid_october.verdicts:
        print(f"{verdict.status}: {verdict.message}")

    # 2. A Python callable as the source: called once per check with the indicators needed.
    def fetch(wanted: object) -> list[dict[str, object]]:
        more = [
            {"indicator": "sport.event_participants", "period": "2023-11", "value": 9800, "district": "田家庵区"},
            {"indicator": "sport.event_participants", "period": "2023-12", "value": 9100, "district": "田家庵区"},
        ]
        return [*ROWS, *more]

    engine = Engine(events_rule, sources=[fetch], calendar=calendar, indicators=indicators, registry=registry)
    year_end = engine.check(as_of="2024-01-01")
    for verdict in year_end.verdicts:
        print(f"{verdict.status}: {verdict.message}")

    assert mid_october.verdicts[0].status is Status.WARN
    assert year_end.verdicts[0].status is Status.BREACH
    return {"2023-10-16": mid_october.verdicts[0].status.value, "2024-01-01": year_end.verdicts[0].status.value}


if __name__ == "__main__":
    main()
