"""Secrets for channels: where they come from, and keeping them out of every text we show.

A secret (an SMTP password, a webhook's HMAC key, a token in a header) reaches a channel in one
of two ways:

- inline in the config, usually as ``${ENV_VAR}``: the config loader substitutes environment
  variables after parsing, in string values only, and fails on an unset variable;
- from a file named by the matching ``*_file`` key (``password_file = "/run/secrets/smtp"``),
  as Docker and systemd credentials provide them. The file is read when the channel opens.

:func:`redact` removes known secrets from any text before it goes into an error, a log line or
``--format json``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import attrs

from .errors import ConfigError, Problem

__all__ = ["MASK", "masked_repr", "redact", "resolve_secret"]

#: What a secret is replaced with.
MASK = "***"


def resolve_secret(
    value: str | None,
    file: str | None,
    *,
    base_dir: Path,
    key: str,
    where: str | None = None,
) -> str | None:
    """The secret given inline (``value``) or in a file (``file``), or ``None`` if neither.

    ``key`` is the inline key's name (``password``); the file key is ``{key}_file``. ``file``
    is resolved against ``base_dir`` when relative and ``~`` is expanded; its content is read
    as UTF-8 and one trailing newline (``\\n`` or ``\\r\\n``) is removed, nothing else (a
    secret may end with spaces).

    Raises :class:`~targetwatch.errors.ConfigError` when both are given, when the file cannot
    be read or is not UTF-8 text, or when the secret is empty. The error names the key (as
    ``{where}.{key}`` when ``where`` is given, e.g. ``channels.ops``) and the file's path, and
    never any of its content.
    """
    file_key = f"{key}_file"
    prefix = f"{where}." if where else ""
    if value is not None and file is not None:
        raise ConfigError([Problem(f"give either {key!r} or {file_key!r}, not both", key=f"{prefix}{key}")])
    if file is not None:
        path = Path(file).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError([Problem(f"cannot read the secret file {str(path)!r}: {reason}", key=f"{prefix}{file_key}")]) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError([Problem(f"the secret file {str(path)!r} is not UTF-8 text", key=f"{prefix}{file_key}")]) from None
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise ConfigError([Problem(f"the secret file {str(path)!r} is empty", key=f"{prefix}{file_key}")])
        return text
    if value is not None and not value:
        raise ConfigError([Problem("the secret is empty (is its environment variable set to nothing?)", key=f"{prefix}{key}")])
    return value


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret replaced by :data:`MASK`.

    Also replaced: the secret as it appears percent-encoded in a URL (``quote`` and
    ``quote_plus`` forms), so a token in a query string does not slip through. ``None`` and
    empty secrets are ignored; longer secrets are replaced first so one secret inside another
    cannot leave a fragment behind.
    """
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        forms.update({secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)})
    for form in sorted(forms, key=len, reverse=True):
        if form:
            text = text.replace(form, MASK)
    return text


def masked_repr(instance: Any, secret_fields: Collection[str]) -> str:
    """An attrs instance's repr with the values of ``secret_fields`` shown as :data:`MASK`
    (a mapping keeps its keys and masks its values), for Params classes that hold secrets."""
    parts = []
    for field in attrs.fields(type(instance)):
        value = getattr(instance, field.name)
        if field.name in secret_fields and value is not None:
            value = {k: MASK for k in value} if isinstance(value, Mapping) else MASK
        parts.append(f"{field.name}={value!r}")
    return f"{type(instance).__name__}({', '.join(parts)})"
