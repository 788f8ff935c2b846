"""``targetwatch explain`` (the numbers behind a verdict) and ``targetwatch history`` (what
changed and who was told, from the state file)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cli_common import config_option, load
from .cli_common import registry as get_registry

if TYPE_CHECKING:
    from .model import Rule, Series, Verdict


def _num(value: object) -> str:
    """A number exactly as computed, with its percentage beside fractions (0.0489 (4.89%))."""
    from .numbers import format_number, plain
    from .params import show_value

    if isinstance(value, Decimal):
        text = plain(value)
        if value != 0 and abs(value) < 1:
            text += f" ({format_number(value, '%')})"
        return text
    return "—" if value is None else show_value(value)


def _params(rule: Rule) -> dict[str, Any]:
    from .params import specs

    out: dict[str, Any] = {}
    for key, spec in specs(type(rule.params)).items():
        value = getattr(rule.params, spec.field)
        out[key] = value if isinstance(value, (Decimal, int, bool, type(None))) else str(value)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


@click.command()
@config_option
@click.argument("rule_id", metavar="RULE")
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE", help="Only the series with this label; repeatable.")
@click.option("--as-of", "as_of", metavar="WHEN", help="Explain as of this moment (default: the config's as_of, else now).")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def explain(config_path: Path | None, rule_id: str, labels: tuple[str, ...], as_of: str | None, fmt: str) -> int:
    """Show a rule as understood, the observations it used and each step to its verdict."""
    from .engine import Engine
    from .errors import ConfigError
    from .params import show_value
    from .plugins import provided_by

    registry = get_registry()
    config = load(config_path, registry)
    engine = Engine.from_config(config, registry=registry)
    rule = next((r for r in engine.rules if r.id == rule_id), None)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(rule_id, [r.id for r in engine.rules], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"no rule {rule_id!r}{hint}; rule ids: {', '.join(sorted(r.id for r in engine.rules))}")
    wanted = {}
    for pair in labels:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, found {pair!r}", param_hint="--label")
        wanted[name] = value
    moment = engine.moment(as_of)
    result = engine.check(moment, rules=[rule])
    data, _problems = engine.load(engine.request([rule], moment))
    visible = data.visible(moment)
    verdicts = [v for v in result.verdicts if all(v.label_map.get(k) == val for k, val in wanted.items())]
    if not verdicts:
        raise ConfigError(f"rule {rule_id!r} has no series with {' '.join(labels)}")
    from .alerting import Alerting

    policy = Alerting(config.alerting, engine.rules, registry).policy_for(verdicts[0])
    plugin = provided_by(registry, "kind", rule.kind)
    doc = {
        "rule": {
            "id": rule.id, "title": rule.title, "kind": rule.kind, "plugin": plugin, "file": _relative(rule.file), "line": rule.line,
            "indicators": [{"name": n, "title": getattr(engine.indicators.get(n), "title", None), "unit": getattr(engine.indicators.get(n), "unit", None)} for n in rule.indicators],
            "selector": str(rule.selector), "severity": rule.severity, "tags": list(rule.tags), "parameters": _params(rule),
            "alerting": {"for_checks": policy.for_checks, "for_duration": show_value(policy.for_duration) if policy.for_duration else None,
                         "repeat": show_value(policy.repeat) if policy.repeat else None, "notify_resolved": policy.notify_resolved,
                         "resolve_at": policy.resolve_at, "channels": list(policy.channels)},
        },
        "as_of": moment.isoformat(),
        "series": [_series_doc(v, [visible.get(n, v.labels) for n in rule.indicators]) for v in verdicts],
        "problems": [str(p) for p in result.problems],
    }
    if fmt == "json":
        click.echo(json.dumps(_jsonable(doc), ensure_ascii=False, indent=2))
    else:
        click.echo(_explain_text(doc, verdicts))
    return result.exit_code


def _relative(path: str | None) -> str | None:
    """A path as short as it can be said from the working directory."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _series_doc(verdict: Verdict, series: list[Series | None]) -> dict[str, Any]:
    from .default_plugins.outputs import verdict_json

    observations = []
    for s in series:
        if s is not None:
            observations += [{"indicator": s.indicator, "period": str(p), "value": v, "source": s.source} for p, v in s]
    return {"labels": dict(verdict.labels), "observations": observations, "verdict": verdict_json(verdict), "details": dict(verdict.details)}


def _field(label: str, text: str) -> str:
    """``  label      text``: the labels padded to one column in any script (CJK is two wide)."""
    from wcwidth import wcswidth

    return f"  {label}{' ' * max(10 - wcswidth(label), 0)} {text}"


def _explain_text(doc: dict[str, Any], verdicts: list[Verdict]) -> str:
    from tabulate import tabulate

    from .i18n import _, pgettext, status_label
    from .numbers import format_number

    r = doc["rule"]
    lines = [_("rule {id}: {title}").format(id=r["id"], title=r["title"]), _field(_("kind"), _("{kind} (plugin {plugin})").format(kind=r["kind"], plugin=r["plugin"]))]
    if r["file"]:
        lines.append(_field(_("defined in"), f"{r['file']}{':' + str(r['line']) if r['line'] else ''}"))
    for ind in r["indicators"]:
        extra = ", ".join(x for x in (ind["title"], ind["unit"]) if x)
        lines.append(_field(_("indicator"), f"{ind['name']}{f' ({extra})' if extra else ''}"))
    selector = r["selector"] if r["selector"] != "{}" else _("all")
    lines.append(_field(_("series"), _("{selector}; severity {severity}").format(selector=selector, severity=r["severity"])))
    lines.append("  " + _("parameters:"))
    width = max(len(k) for k in r["parameters"])
    lines += [f"    {k.ljust(width)}  {_num(v)}" for k, v in r["parameters"].items() if v is not None]
    a = r["alerting"]
    fires = (_("fires after {n} non-OK check(s) lasting {duration}") if a["for_duration"] else _("fires after {n} non-OK check(s)")).format(
        n=a["for_checks"], duration=a["for_duration"]
    )
    policy = _("{fires}; repeat {repeat}; resolved notices {resolved}; channels {channels}").format(
        fires=fires, repeat=a["repeat"] or _("never"), resolved=pgettext("switch", "on") if a["notify_resolved"] else pgettext("switch", "off"),
        channels=", ".join(a["channels"]) or _("none"),
    )
    lines.append(_field(_("alerting"), policy))
    lines.append(_("as of {moment}").format(moment=doc["as_of"]))
    for s, v in zip(doc["series"], verdicts):
        lines.append("")
        lines.append(_("series {series}").format(series=v.series_key or _("(no labels)")))
        if s["observations"]:
            units = {ind["name"]: ind["unit"] for ind in r["indicators"]}
            rows = [[o["indicator"], o["period"], format_number(o["value"], units.get(o["indicator"])), o["source"] or ""] for o in s["observations"]]
            headers = [_("INDICATOR"), _("PERIOD"), _("VALUE"), _("SOURCE")]
            lines += ["  " + line for line in tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True).splitlines()]
        else:
            lines.append("  " + _("no observations up to this moment"))
        if s["details"]:
            lines.append("  " + _("computation:"))
            width = max(len(k) for k in s["details"])
            lines += [f"    {k.ljust(width)}  {_num(val)}" for k, val in s["details"].items()]
        lines.append(_field(_("verdict"), _("{status}: {message}").format(status=status_label(v.status.value), message=v.message)))
        figures = _("value {value}, target {target}, margin {margin}, period {period}").format(
            value=format_number(v.value, v.unit), target=format_number(v.target, v.unit), margin=format_number(v.margin, v.unit), period=v.period or "—"
        )
        lines.append(" " * 13 + figures)
        if v.silenced:
            lines.append(" " * 13 + _("silenced: {reason}").format(reason=v.silenced))
    for problem in doc["problems"]:
        lines.append(_("problem: {problem}").format(problem=problem))
    return "\n".join(lines)


@click.command()
@config_option
@click.argument("rule_id", metavar="[RULE]", required=False)
@click.option("--since", "since_text", metavar="WHEN", help="Only since this moment (2023-10-01) or for this long back (7d).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def history(config_path: Path | None, rule_id: str | None, since_text: str | None, limit: int, fmt: str) -> int:
    """Status changes and notifications from the state file, newest first: what changed, and
    who was told through which channel."""
    from .cli_state import _store, _when

    config = load(config_path, get_registry())
    now = dt.datetime.now(config.calendar.tzinfo)
    since = None
    if since_text:
        since = _when(config, since_text, now)
        if since > now:  # "7d" means seven days back
            since = now - (since - now)
    rows = _store(config).history(rule_id, since, limit)
    if fmt == "json":
        click.echo(json.dumps([{k: v for k, v in r.items() if k != "rank"} for r in rows], ensure_ascii=False, indent=2))
        return 0
    from .i18n import _

    if not rows:
        click.echo(_("no history yet for {rule}").format(rule=rule_id) if rule_id else _("no history yet"))
        return 0
    from tabulate import tabulate

    table = []
    for r in rows:
        at = dt.datetime.fromisoformat(r["at"]).astimezone(config.calendar.tzinfo).strftime("%Y-%m-%d %H:%M")
        if r["what"] == "status":
            what, detail = f"{r['detail'] or _('new')} → {r['status']}", r["message"] or ""
        else:
            what, detail = f"{r['what']} ({r['status']})", _("told {channel}: {delivery}").format(channel=r["channel"], delivery=r["delivery"] or _("queued"))
        table.append([at, r["rule"], r["series"], what, detail])
    headers = [_("WHEN"), _("RULE"), _("SERIES"), _("WHAT"), _("DETAIL")]
    click.echo(tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True, maxcolwidths=[None, 32, 24, None, 60]))
    return 0


__all__ = ["explain", "history"]
