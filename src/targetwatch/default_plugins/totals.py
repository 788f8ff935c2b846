"""Which observations make up a period's total: an observation for exactly the period, else
the observations inside it, never double counting and never leaving one out that fits.

Used by :func:`~targetwatch.default_plugins.pace.observations_in` (``minimum`` and ``cap``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..periods import Period

Observation = tuple["Period", Decimal]


def combined(inside: Sequence[Observation]) -> list[Observation]:
    """Observations of mixed grains inside one period, combined without overlap, sorted.

    The coarsest come first; a finer observation lying inside a chosen one replaces it only
    together with the others that tile it exactly (the months of a quarter: the same total,
    fresher), and one overlapping a chosen one only partly (a week across two months) is left
    out. So a quarter and the three months after it make a half, and a half beside two of its
    months stays the half.
    """
    chosen: list[Observation] = []
    within: dict[int, list[Observation]] = {}
    for obs in sorted(inside, key=lambda o: (-o[0].days, o[0].start)):
        p = obs[0]
        hits = [i for i, (c, _v) in enumerate(chosen) if c.start < p.end and p.start < c.end]
        if not hits:
            chosen.append(obs)
        elif len(hits) == 1 and chosen[hits[0]][0].contains_period(p) and chosen[hits[0]][0] != p:
            within.setdefault(hits[0], []).append(obs)
    out: list[Observation] = []
    for i, obs in enumerate(chosen):
        finer = combined(within[i]) if i in within else []
        if finer and sum(p.days for p, _v in finer) == obs[0].days:
            out.extend(finer)
        else:
            out.append(obs)
    out.sort(key=lambda o: o[0])
    return out


__all__ = ["Observation", "combined"]
