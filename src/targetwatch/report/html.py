"""The report as one self-contained HTML page: inline CSS and SVG, no script, no URL, so it
works offline, mails as an attachment and prints (a page per group)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from markupsafe import Markup

from .charts import render as render_chart
from .charts import status_bar

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

    from . import Report

#: Status words in the order the summary shows them.
STATUSES = ("BREACH", "WARN", "UNKNOWN", "ERROR", "OK")


@functools.lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The sandboxed, autoescaping Jinja2 environment the report templates render in: every
    user text (titles, labels, messages) is escaped; only our own SVG is marked safe."""
    from jinja2 import PackageLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    from .. import i18n
    from ..default_plugins.outputs import counts_text

    env = SandboxedEnvironment(
        loader=PackageLoader("targetwatch.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Bound to targetwatch's own lookups, which read the current locale at each call: the
    # cached environment serves every locale.
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(status_label=i18n.status_label, count_label=lambda n, status: counts_text({status: n}))
    return env


def render_html(report: Report) -> str:
    """The whole page as text (UTF-8 when written)."""
    from .. import __version__
    from ..i18n import current
    from . import STATUS_SYMBOL

    charts: dict[str, Markup] = {e.chart_id: render_chart(e.chart, e.chart_id) for e in report.entries if e.chart is not None}
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report, charts=charts, statuses=STATUSES, status_bar=status_bar(report.summary, STATUSES),
        version=__version__, symbols=STATUS_SYMBOL, percent=f"{report.elapsed:.0%}", lang=current(),
    )
