"""Dead-man's-switch pings (healthchecks-style start / success / fail URLs).

A ping that fails is logged and forgotten: it must never fail the check itself.
"""

from __future__ import annotations

import logging
import urllib.request

from . import __version__
from .secrets import redact

log = logging.getLogger("targetwatch.pings")


def ping(url: str | None, *, timeout: float, body: str | None = None) -> bool:
    """Request ``url`` (POST with ``body`` when given, else GET); True when it answered 2xx."""
    if not url:
        return False
    data = body.encode("utf-8") if body is not None else None
    try:
        # Inside the try: a malformed URL (no scheme) raises ValueError here, and must not fail the check.
        request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET", headers={"User-Agent": f"targetwatch/{__version__}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user's own URL
            status = int(response.status)
            ok = 200 <= status < 300
    except Exception as exc:  # noqa: BLE001 - a ping never fails a check
        log.warning("ping failed: %s", redact(f"{type(exc).__name__}: {exc}", [url]))
        return False
    if not ok:
        log.warning("ping answered %s", status)
    return ok
