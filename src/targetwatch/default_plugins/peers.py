"""The ``rank`` and ``share`` rule kinds: a series judged against its peers.

Peers are series of the same indicator, chosen by a label selector (``peers``) and narrowed to
those sharing this series' values of the ``within`` labels; the series itself is always one of
them. Both kinds judge one period: ``period`` when given, else this series' newest.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ..hookspecs import hookimpl
from ..i18n import _, current, ngettext
from ..kind import EvalContext, PreparedKind, RuleKind, pick_observation, unknown
from ..model import Judgement, Labels, LabelSelector, Rule, Series, Status
from ..numbers import exact_context
from ..params import (
    Choice,
    IndicatorRef,
    Integer,
    ListOf,
    Number,
    PeriodSpec,
    Selector,
    Text,
    param,
)
from .coverage import bound_problems, judge_share, standing

if TYPE_CHECKING:
    from ..periods import Period


def show_labels(labels: Labels) -> str:
    """Labels as people read them: ``district=田家庵区, level=city`` (``{}`` for none)."""
    return ", ".join(f"{k}={v}" for k, v in labels) or "{}"


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd`` ...; in Chinese ``第 1 名``.

    Ordinals are locale data like number formats (CLDR ordinal rules), not a message: the
    English suffix depends on the digits, which a catalog entry cannot express."""
    if current() == "zh-CN":
        return f"第 {n} 名"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def peer_series(
    series: Series,
    selector: LabelSelector,
    within: Sequence[str],
    ctx: EvalContext,
    index: PeerIndex | None = None,
) -> list[Series]:
    """The other series of ``series``' indicator matching ``selector`` and sharing its
    ``within`` labels (a label absent from both counts as shared). Excludes ``series`` itself.

    ``index`` remembers the selection across the series of one rule (else it is made anew)."""
    return (index or PeerIndex(ctx)).peers(series, selector, within)


class PeerIndex:
    """The series of an indicator matching a selector, grouped by their values of the
    ``within`` labels: selected once for all the series of a rule, not once per series."""

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self._groups: dict[tuple[str, LabelSelector, tuple[str, ...]], dict[tuple[str | None, ...], list[Series]]] = {}

    def peers(self, series: Series, selector: LabelSelector, within: Sequence[str]) -> list[Series]:
        """:func:`peer_series`: in the data's order, without ``series`` itself."""
        names = tuple(within)
        key = (series.indicator, selector, names)
        groups = self._groups.get(key)
        if groups is None:
            groups = self._groups[key] = {}
            for other in self.ctx.data.select(series.indicator, selector):
                theirs = other.label_map
                groups.setdefault(tuple(theirs.get(name) for name in names), []).append(other)
        own = series.label_map
        group = groups.get(tuple(own.get(name) for name in names), [])
        return [other for other in group if other.labels != series.labels]


@attrs.frozen
class RankParams:
    indicator: str = param(IndicatorRef(), doc="The indicator ranked; verdicts are per series.")
    max_rank: int = param(
        Integer(minimum=1),
        doc="The worst rank that passes, inclusive: 1 = must be first, 3 = top three.",
    )
    peers: LabelSelector = param(
        Selector(),
        default=LabelSelector(),
        doc='Which series of the indicator are the peers (default: all). The judged series is always included. Exclude totals here, e.g. { district = { not = "淮南市" } }.',
    )
    within: tuple[str, ...] = param(
        ListOf(Text()),
        default=(),
        doc='Peers must share this series\' values of these labels, e.g. ["city"] ranks each district within its own city.',
    )
    order: str = param(
        Choice("desc", "asc"),
        default="desc",
        doc='"desc": a higher value ranks better; "asc": a lower value ranks better.',
    )
    period: str | None = param(
        PeriodSpec(),
        default=None,
        doc="The period ranked; default: this series' newest. Peers are compared on exactly the same period.",
    )
    warn_gap: Decimal | None = param(
        Number(),
        default=None,
        doc="WARN when within max_rank but at most this far (in the indicator's unit) ahead of the peer that would push the series out of the top max_rank by overtaking it.",
    )


class RankKind(PreparedKind):
    """``rank``: is this series among the top ``max_rank`` of its peers?

    - The period is ``period`` when given, else this series' newest; each peer's value for
      exactly that period is used. Peers with no value for it are left out and named in
      ``missing_peers``; when no other peer has a value, the verdict is UNKNOWN.
    - Competition ranking: rank = 1 + the number of peers strictly better (higher with
      ``order = "desc"``, lower with ``"asc"``), so ties share a rank (1, 1, 3).
    - rank ≤ ``max_rank`` is OK (exactly ``max_rank`` passes); above it BREACH. With
      ``warn_gap``, a passing series whose lead over the peer that would push it out of the top
      ``max_rank`` (for rank 1 of top 1: the runner-up) is at most ``warn_gap`` is WARN.
    - Value is the rank, target ``max_rank``, margin ``max_rank`` − rank. Details: ``rank``,
      ``peers_count`` (this series included), ``leader`` (labels of the best), ``leader_value``,
      ``own`` (this series' value), ``period``, ``missing_peers``, and ``gap``/``chaser`` when
      a gap was measured.
    """

    name = "rank"
    summary = "position among peer series of the same indicator is within the top max_rank"
    Params = RankParams

    exact = False

    def prepare(self, rule: Rule, ctx: EvalContext) -> PeerIndex:
        return PeerIndex(ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, index: PeerIndex) -> Judgement:
        p: RankParams = rule.params
        picked = pick_observation(series, p.period, ctx)
        if isinstance(picked, Judgement):
            return picked
        period, own = picked
        values: list[tuple[Labels, Decimal]] = []
        missing: list[str] = []
        for other in index.peers(series, p.peers, p.within):
            v = other.value_at(period)
            if v is None:
                missing.append(show_labels(other.labels))
            else:
                values.append((other.labels, v))
        if not values:
            return unknown(
                _("no peers with data for {period}").format(period=period),
                period=period,
                unit="",
                details={"period": period.label, "missing_peers": "; ".join(missing)},
            )
        # Orient every value so that bigger is better; "strictly better" is then ">". Negation
        # rounds to the context's precision, hence the exact context.
        with decimal.localcontext(exact_context()):
            oriented = [(labels, v if p.order == "desc" else -v) for labels, v in values]
            mine = own if p.order == "desc" else -own
            behind = sorted((mine - v, labels) for labels, v in oriented if v <= mine)
        rank = 1 + sum(1 for _, v in oriented if v > mine)
        everyone = [(series.labels, own), *values]
        leader, leader_value = everyone[0]
        for labels, v in values:
            if (v > leader_value) if p.order == "desc" else (v < leader_value):
                leader, leader_value = labels, v
        details: dict[str, Any] = {
            "rank": rank,
            "peers_count": len(everyone),
            "leader": show_labels(leader),
            "leader_value": leader_value,
            "own": own,
            "period": period.label,
            "missing_peers": "; ".join(missing),
        }
        status = Status.OK if rank <= p.max_rank else Status.BREACH
        unit = ctx.unit(series.indicator)
        tied = sum(1 for _, v in values if v == own)
        said = {"ordinal": ordinal(rank), "count": len(everyone), "period": period, "value": ctx.fmt(own, unit), "max_rank": p.max_rank}
        text = (
            _("ranks {ordinal} (tied) of {count} in {period} with {value} (target: top {max_rank})")
            if tied
            else _("ranks {ordinal} of {count} in {period} with {value} (target: top {max_rank})")
        ).format(**said)
        if status is Status.OK and p.warn_gap is not None:
            # Falling out of the top max_rank takes (max_rank - rank + 1) more peers strictly
            # ahead; the k-th closest of those not ahead now is the one to watch.
            k = p.max_rank - rank
            if k < len(behind):
                gap, chaser = behind[k]
                details["gap"] = gap
                details["chaser"] = show_labels(chaser)
                if gap <= p.warn_gap:
                    status = Status.WARN
                    text += _("; only {gap} ahead of {chaser} (warning at {warn_gap})").format(
                        gap=ctx.fmt(gap, unit), chaser=show_labels(chaser), warn_gap=ctx.fmt(p.warn_gap, unit)
                    )
        if rank != 1:
            text += _("; the leader {leader} has {value}").format(leader=show_labels(leader), value=ctx.fmt(leader_value, unit))
        if missing:
            text += ngettext("; {n} peer without data left out", "; {n} peers without data left out", len(missing)).format(n=len(missing))
        return Judgement(
            status,
            text,
            value=Decimal(rank),
            target=Decimal(p.max_rank),
            margin=Decimal(p.max_rank - rank),
            period=period,
            unit="",
            details=details,
        )


@attrs.frozen
class ShareParams:
    indicator: str = param(IndicatorRef(), doc="The indicator shared out; verdicts are per series.")
    min: Decimal | None = param(
        Number(),
        default=None,
        doc='The least share of the total that passes, inclusive: "33.3%" or 0.333.',
    )
    max: Decimal | None = param(
        Number(),
        default=None,
        doc='The greatest share of the total that passes, inclusive: "4.89%".',
    )
    total: LabelSelector | None = param(
        Selector(),
        default=None,
        doc='The labels of the one series of the same indicator that holds the total, e.g. { district = "淮南市" }; without it the total is the sum over the peers.',
    )
    peers: LabelSelector = param(
        Selector(),
        default=LabelSelector(),
        doc="Which series are summed into the total when total is not given (default: all; exclude any series that is itself a total). The judged series is always included.",
    )
    within: tuple[str, ...] = param(
        ListOf(Text()),
        default=(),
        doc='The total (or peers) must share this series\' values of these labels, e.g. ["city"].',
    )
    period: str | None = param(
        PeriodSpec(),
        default=None,
        doc="The period judged; default: this series' newest. The total is taken for exactly the same period.",
    )
    warn_min: Decimal | None = param(
        Number(), default=None, doc="A share at or above min but below this is WARN."
    )

    def problems(self) -> list[tuple[str, str]]:
        out = bound_problems(self.min, self.max, self.warn_min)
        if self.min is None and self.max is None:
            out.append(("min", "expected min or max (or both): a share needs a bound"))
        return out


class ShareKind(PreparedKind):
    """``share``: is this series' share of a total at least ``min`` (and at most ``max``)?

    - The period is ``period`` when given, else this series' newest.
    - The total is the value, for that period, of the one series selected by ``total`` (and
      sharing the ``within`` labels); if that selects no series or several, the verdict is
      UNKNOWN. Without ``total``, it is the sum of this series and its peers; a peer with no
      value for the period makes it UNKNOWN (a partial sum would overstate the share).
    - Bounds are inclusive and compared exactly, without dividing:
      ``own >= min * total`` and ``own <= max * total``. Outside is BREACH; at or above ``min``
      but below ``warn_min`` is WARN.
    - A total that is zero or negative is UNKNOWN; so is judging the total series itself (limit
      the rule's selector to the parts).
    - Value is own / total (a percentage), target the bound it was held to, margin value − min
      (or max − value). Details: ``own``, ``total``, ``share``, ``min``/``max``/``warn_min``,
      ``period``, and ``total_series`` or ``peers_count``.
    """

    name = "share"
    summary = (
        "this series' share of a total (a total series or the sum of peers) is within min / max"
    )
    Params = ShareParams

    exact = False

    def prepare(self, rule: Rule, ctx: EvalContext) -> PeerIndex:
        return PeerIndex(ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, index: PeerIndex) -> Judgement:
        p: ShareParams = rule.params
        picked = pick_observation(series, p.period, ctx)
        if isinstance(picked, Judgement):
            return picked
        period, own = picked
        found = self._total(p, series, period, own, ctx, index)
        if isinstance(found, Judgement):
            return found
        total, source = found
        details: dict[str, Any] = {"period": period.label, "own": own, "total": total, **source}
        unit = ctx.unit(series.indicator)
        if total <= 0:
            return unknown(
                _("the total is {total} for {period}; a share of it is undefined").format(total=ctx.fmt(total, unit), period=period),
                period=period,
                unit="%",
                details=details,
            )
        status, value, target, margin = judge_share(
            own, total, minimum=p.min, maximum=p.max, warn_min=p.warn_min
        )
        details["share"] = value
        for key in ("min", "max", "warn_min"):
            if getattr(p, key) is not None:
                details[key] = getattr(p, key)
        message = _("{own} is {share} of {total} in {period} and {standing}").format(
            own=ctx.fmt(own, unit), share=ctx.fmt(value, "%"), total=ctx.fmt(total, unit), period=period,
            standing=standing(ctx, status, value, p.min, p.max, p.warn_min),
        )
        return Judgement(
            status,
            message,
            value=value,
            target=target,
            margin=margin,
            period=period,
            unit="%",
            details=details,
        )

    def _total(
        self, p: ShareParams, series: Series, period: Period, own: Decimal, ctx: EvalContext, index: PeerIndex
    ) -> tuple[Decimal, dict[str, Any]] | Judgement:
        if p.total is not None:
            candidates = index.peers(series, p.total, p.within)
            if p.total.matches(series.labels):
                return unknown(
                    _("this series is the total {total} itself; limit the rule's selector to the parts").format(total=p.total),
                    period=period,
                    unit="%",
                )
            if len(candidates) != 1:
                return unknown(
                    _("the total selector {total} matches {count} series, expected exactly one").format(total=p.total, count=len(candidates)),
                    period=period,
                    unit="%",
                )
            (holder,) = candidates
            total = holder.value_at(period)
            if total is None:
                return unknown(
                    _("no total ({labels}) for {period}").format(labels=show_labels(holder.labels), period=period), period=period, unit="%"
                )
            return total, {"total_series": show_labels(holder.labels)}
        peers = index.peers(series, p.peers, p.within)
        missing = [show_labels(s.labels) for s in peers if s.value_at(period) is None]
        if missing:
            return unknown(
                _("peers without data for {period}: {peers}; their sum would not be the total").format(period=period, peers="; ".join(missing)),
                period=period,
                unit="%",
                details={"period": period.label, "missing_peers": "; ".join(missing)},
            )
        with decimal.localcontext(exact_context()):
            total = own + sum((s.value_at(period) or Decimal(0) for s in peers), Decimal(0))
        return total, {"peers_count": len(peers) + 1}


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(RankKind())
    register(ShareKind())
