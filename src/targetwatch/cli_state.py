"""Commands over the state file: silences, the outbox, and the alert status at a glance."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cli_common import config_option, load
from .cli_common import registry as get_registry

if TYPE_CHECKING:
    from .config import Config
    from .state import OpenAlert, StateStore


def _store(config: Config) -> StateStore:
    from .state import StateStore

    return StateStore.open(config.alerting.state_path)


def _now(config: Config) -> dt.datetime:
    return dt.datetime.now(config.calendar.tzinfo)


def _when(config: Config, text: str, now: dt.datetime) -> dt.datetime:
    """A moment (``2023-11-01``, ``2023-11-01T12:00``, read in the configured zone) or a
    duration from now (``3d``, ``12h``)."""
    from .errors import PeriodError
    from .periods import parse_duration

    try:
        span = parse_duration(text)
    except (ValueError, TypeError):
        span = None
    if span is not None:
        return now + dt.timedelta(seconds=span.seconds) if not span.months else config.calendar.localize(_add_months(now, span.months)) + dt.timedelta(seconds=span.seconds)
    try:
        return config.calendar.moment(text)
    except PeriodError as exc:
        raise click.BadParameter(f"expected a date, a date-time or a duration such as 3d; {exc}") from None


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    import calendar

    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _labels(pairs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, found {pair!r}", param_hint="--label")
        out.append((name.strip(), value))
    return tuple(sorted(out))


def _show(moment: dt.datetime | None, config: Config) -> str:
    return "—" if moment is None else moment.astimezone(config.calendar.tzinfo).strftime("%Y-%m-%d %H:%M")


@click.command()
@config_option
@click.argument("rule")
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE", help="Only the series with this label; repeatable.")
@click.option("--until", "until_text", required=True, metavar="WHEN", help="Until this moment (2023-11-01, read in the configured time zone) or for this long (3d, 12h).")
@click.option("--reason", required=True, help="Why: shown beside the silenced verdicts.")
def silence(config_path: Path | None, rule: str, labels: tuple[str, ...], until_text: str, reason: str) -> int:
    """Silence RULE (an id or a shell pattern): its verdicts still show, marked, and send nothing."""
    from fnmatch import fnmatchcase

    from .errors import ConfigError
    from .rules import load_rules

    registry = get_registry()
    config = load(config_path, registry)
    rules = load_rules(config.rule_paths, registry.kinds, calendar=config.calendar, indicators=config.indicators)
    if not any(fnmatchcase(r.id, rule) for r in rules):
        raise ConfigError(f"no rule matches {rule!r}; rule ids: {', '.join(sorted(r.id for r in rules))}")
    if not reason.strip():
        raise click.BadParameter("give a reason", param_hint="--reason")
    now = _now(config)
    until = _when(config, until_text, now)
    if until <= now:
        raise click.BadParameter(f"{_show(until, config)} is not in the future", param_hint="--until")
    import getpass

    store = _store(config)
    silence_id = store.add_silence(rule, _labels(labels), until, reason, now, created_by=getpass.getuser())
    shown = " ".join(f"{k}={v}" for k, v in _labels(labels))
    click.echo(f"silence #{silence_id}: {rule}{' ' + shown if shown else ''} until {_show(until, config)} ({config.calendar.timezone}): {reason}")
    return 0


@click.command()
@config_option
@click.option("--all", "show_all", is_flag=True, help="Also list expired and ended silences.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def silences(config_path: Path | None, show_all: bool, fmt: str) -> int:
    """List the silences (active ones unless --all)."""
    config = load(config_path, get_registry())
    now = _now(config)
    rows = [s for s in _store(config).silences(include_ended=show_all) if show_all or s.active(now)]
    if fmt == "json":
        doc = [{"id": s.id, "rule": s.rule, "labels": dict(s.labels), "until": s.until.isoformat(), "reason": s.reason,
                "created_at": s.created_at.isoformat(), "created_by": s.created_by, "active": s.active(now)} for s in rows]
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        click.echo("no active silences" if not show_all else "no silences")
        return 0
    from tabulate import tabulate

    table = [[s.id, s.rule, " ".join(f"{k}={v}" for k, v in s.labels), _show(s.until, config),
              "active" if s.active(now) else ("ended" if s.ended_at else "expired"), s.reason, s.created_by or ""] for s in rows]
    click.echo(tabulate(table, headers=["ID", "RULE", "LABELS", "UNTIL", "STATE", "REASON", "BY"], tablefmt="simple", disable_numparse=True))
    return 0


@click.command()
@config_option
@click.argument("silence_id", type=int, metavar="ID")
def unsilence(config_path: Path | None, silence_id: int) -> int:
    """End silence ID now."""
    from .errors import ConfigError

    config = load(config_path, get_registry())
    if not _store(config).end_silence(silence_id, _now(config)):
        raise ConfigError(f"no active silence #{silence_id} (see `targetwatch silences --all`)")
    click.echo(f"silence #{silence_id} ended")
    return 0


@click.command()
@config_option
@click.option("--retry", is_flag=True, help="Put undeliverable (dead) messages back in the queue, to be sent by the next check.")
@click.option("--sent", "show_sent", is_flag=True, help="Also list delivered messages.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def outbox(config_path: Path | None, retry: bool, show_sent: bool, fmt: str) -> int:
    """Notifications waiting to be delivered, and those given up. Exits 3 while any is dead."""
    config = load(config_path, get_registry())
    store = _store(config)
    if retry:
        count = store.retry_dead(_now(config))
        click.echo(f"{count} message{'s' if count != 1 else ''} queued again")
    rows = store.outbox(states=("pending", "dead", "sent") if show_sent else ("pending", "dead"))
    if fmt == "json":
        doc = [{"id": r.id, "key": r.key, "channel": r.channel, "state": r.state, "attempts": r.attempts,
                "created_at": r.created_at.isoformat(), "next_attempt_at": r.next_attempt_at.isoformat(),
                "sent_at": r.sent_at.isoformat() if r.sent_at else None, "last_error": r.last_error,
                "subject": r.message.subject} for r in rows]
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    elif not rows:
        click.echo("the outbox is empty: everything was delivered")
    else:
        from tabulate import tabulate

        table = [[r.id, r.channel, r.state, r.attempts, _show(r.created_at, config),
                  _show(r.next_attempt_at, config) if r.state == "pending" else "—", r.last_error or "", r.message.subject] for r in rows]
        click.echo(tabulate(table, headers=["ID", "CHANNEL", "STATE", "TRIES", "CREATED", "NEXT TRY", "LAST ERROR", "SUBJECT"],
                            tablefmt="simple", disable_numparse=True, maxcolwidths=[None, None, None, None, None, None, 50, 50]))
    return 3 if any(r.state == "dead" for r in rows) else 0


#: How many alerts the table lists unless ``--limit`` says otherwise.
STATUS_ROWS = 20


@click.command()
@config_option
@click.option("--limit", type=click.IntRange(min=0), metavar="N",
              help=f"List at most N alerts, worst first; 0 lists all. Default: {STATUS_ROWS} in the table, all in JSON.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def status(config_path: Path | None, limit: int | None, fmt: str) -> int:
    """Firing and pending alerts (worst first), silences and the outbox at a glance (from the last check)."""
    config = load(config_path, get_registry())
    store = _store(config)
    now = _now(config)
    alerts = store.open_alerts()
    active = [s for s in store.silences() if s.active(now)]
    queued = store.outbox()
    if limit is None:
        limit = STATUS_ROWS if fmt == "table" else 0
    shown = alerts[:limit] if limit else alerts
    if fmt == "json":
        rest: dict[str, Any] = {
            "more": len(alerts) - len(shown),  # always there (0 when all are listed): one shape to parse
            "silences": len(active),
            "outbox": {"pending": sum(r.state == "pending" for r in queued), "dead": sum(r.state == "dead" for r in queued)},
        }
        for piece in _json_pieces(shown, rest):
            click.echo(piece, nl=False)
    else:
        from tabulate import tabulate

        if alerts:
            table = [["firing" if a.firing else "pending", a.status.value, a.rule,
                      ", ".join(f"{k}={v}" for k, v in json.loads(a.labels).items()),
                      _show(a.since, config), a.message] for a in shown]
            click.echo(tabulate(table, headers=["STATE", "STATUS", "RULE", "SERIES", "SINCE", "WHY"], tablefmt="simple",
                                disable_numparse=True, maxcolwidths=[None, None, 32, 24, None, 60]))
            if len(shown) < len(alerts):
                click.echo(f"… and {len(alerts) - len(shown):,} more: --limit N lists N, --limit 0 all")
            click.echo(_counts(alerts))
        else:
            click.echo("no alerts: every target was OK at the last check")
        pending = sum(r.state == "pending" for r in queued)
        dead = sum(r.state == "dead" for r in queued)
        click.echo(f"silences: {len(active)} active; outbox: {pending} waiting, {dead} given up")
    return 3 if any(r.state == "dead" for r in queued) else 0


#: Alerts written at a time by ``status --format json``.
_CHUNK = 2000


def _json_pieces(alerts: list[OpenAlert], rest: dict[str, Any], chunk: int = _CHUNK) -> Iterator[str]:
    """``json.dumps({"alerts": [...], **rest}, ensure_ascii=False, indent=2)`` and a line
    break, in pieces of a few thousand alerts: the indenting encoder is pure Python, and
    several times slower than writing the alerts' fixed shape directly."""
    texts: dict[dt.datetime, str] = {}
    quote = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False

    def moment(value: dt.datetime | None) -> str:
        if value is None:
            return "null"
        found = texts.get(value)
        if found is None:
            found = texts[value] = quote(value.astimezone(dt.UTC).isoformat())
        return found

    def item(a: OpenAlert) -> str:
        labels = json.loads(a.labels)
        if isinstance(labels, dict) and labels and all(isinstance(v, str) for v in labels.values()):
            shown = "{\n" + ",\n".join(f"        {quote(k)}: {quote(v)}" for k, v in labels.items()) + "\n      }"
        else:
            shown = json.dumps(labels, ensure_ascii=False, indent=2).replace("\n", "\n      ")
        return (f'    {{\n      "rule": {quote(a.rule)},\n      "labels": {shown},\n      "status": {quote(a.status.value)},\n'
                f'      "state": "{"firing" if a.firing else "pending"}",\n      "since": {moment(a.since)},\n'
                f'      "fired_at": {moment(a.fired_at)},\n      "message": {"null" if a.message is None else quote(a.message)}\n    }}')

    yield '{\n  "alerts": [' + ("\n" if alerts else "")
    for start in range(0, len(alerts), chunk):
        yield (",\n" if start else "") + ",\n".join(item(a) for a in alerts[start:start + chunk])
    yield ("\n  ]" if alerts else "]") + ",\n" + json.dumps(rest, ensure_ascii=False, indent=2)[2:] + "\n"


def _counts(alerts: list[OpenAlert]) -> str:
    """``alerts: 3 firing (2 BREACH, 1 WARN), 1 pending (1 WARN)``: worst status first."""
    from collections import Counter

    counts = Counter((a.firing, a.status) for a in alerts)
    parts = []
    for firing, name in ((True, "firing"), (False, "pending")):
        mine = sorted(((status, n) for (f, status), n in counts.items() if f is firing), key=lambda c: -c[0].severity)
        if mine:
            parts.append(f"{sum(n for _, n in mine):,} {name} ({', '.join(f'{n:,} {status.value}' for status, n in mine)})")
    return "alerts: " + ", ".join(parts)
