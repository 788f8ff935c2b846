"""Where the database is, how to reach it, and how its errors read — with the password kept out
of every message."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from targetwatch.secrets import MASK, redact
from targetwatch.source import SourceContext

from .masking import mask_url_text

#: Query-string keys of a URL whose values are secrets (``?password=...`` for some drivers).
_SECRET_KEYS = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)

#: The extra to install for a driver a URL names, for the "not installed" message.
_EXTRAS = {"duckdb": "duckdb", "postgresql": "postgres"}

Fail = Callable[[str], Exception]


def _is_file_backend(url: URL) -> bool:
    return url.get_backend_name() in ("sqlite", "duckdb") and url.database not in (None, "", ":memory:")


@attrs.frozen
class Database:
    """A database as the ``sql`` source reaches it.

    ``url`` is what is connected to (a relative SQLite or DuckDB file resolved against the
    config's folder, opened read-only); ``display`` is the URL as written, password hidden,
    for every message and origin; ``secrets`` are masked out of any driver text shown.
    """

    url: URL
    display: str
    secrets: tuple[str, ...]
    connect_args: dict[str, Any] = attrs.field(factory=dict)
    file: Path | None = None

    @classmethod
    def from_text(cls, text: str, context: SourceContext) -> Database:
        """Parse ``text`` (already checked to parse when it came from ``url``); raises
        :class:`ValueError` with a password-free message when it does not."""
        try:
            url = make_url(text.strip())
        except ArgumentError:
            raise ValueError(f"expected a SQLAlchemy URL such as 'sqlite:///obs.sqlite', found {mask_url_text(text.strip())!r}") from None
        secrets = [url.password if isinstance(url.password, str) else None]
        query: dict[str, Any] = {}
        for key, value in url.query.items():
            if _SECRET_KEYS.search(key):
                values = (value,) if isinstance(value, str) else tuple(value)
                secrets.extend(values)
                query[key] = MASK
            else:
                query[key] = value
        display = url.set(query=query).render_as_string(hide_password=True)
        kept = tuple(s for s in secrets if s)
        if not _is_file_backend(url) or url.query.get("uri") or str(url.database).startswith("file:"):
            return cls(url, display, kept)
        file = context.path(str(url.database)).resolve()
        if url.get_backend_name() == "sqlite":
            # URI mode read-only: a typo in the path must not create an empty database.
            target = url.set(database="file:" + file.as_uri()[len("file://"):], query={**url.query, "mode": "ro", "uri": "true"})
            return cls(target, display, kept, file=file)
        return cls(url.set(database=str(file)), display, kept, {"read_only": True}, file)

    def redact(self, text: str) -> str:
        return mask_url_text(redact(text, self.secrets))

    def engine(self, fail: Fail) -> sa.Engine:
        """A SQLAlchemy engine without a pool (a check reads once); raises ``fail(message)``
        for a missing database file, an unknown driver or one that is not installed."""
        if self.file is not None and not self.file.is_file():
            what = "no such database file" if not self.file.exists() else "not a file"
            raise fail(f"{what} (looked for {self.file}); the database is opened read-only and never created")
        try:
            return sa.create_engine(self.url, poolclass=NullPool, connect_args=self.connect_args)
        except NoSuchModuleError:
            name = self.url.drivername
            raise fail(
                f"unknown database driver {name!r}: no SQLAlchemy dialect of that name is installed "
                "(e.g. 'sqlite', 'duckdb' with targetwatch-sql[duckdb], 'postgresql+psycopg' with targetwatch-sql[postgres])"
            ) from None
        except ImportError as exc:
            extra = _EXTRAS.get(self.url.get_backend_name())
            hint = f"; install it with pip install 'targetwatch-sql[{extra}]'" if extra else ""
            raise fail(f"the database driver for {self.url.drivername!r} is not installed ({exc}){hint}") from None
        except (ArgumentError, TypeError, ValueError) as exc:
            raise fail(f"cannot use the URL: {self.redact(str(exc))}") from None

    def explain(self, exc: BaseException) -> str:
        """The driver's own words for ``exc`` (its first line), secrets masked: without
        SQLAlchemy's statement dump and link."""
        if isinstance(exc, DBAPIError) and exc.orig is not None:
            text = str(exc.orig)
        elif isinstance(exc, SQLAlchemyError) and exc.args:
            text = str(exc.args[0])
        else:
            text = str(exc)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first = lines[0] if lines else type(exc).__name__
        return self.redact(first)
