"""Masking a database URL's password in text, without importing SQLAlchemy."""

from __future__ import annotations

import re

from targetwatch.secrets import MASK

_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def mask_url_text(text: str) -> str:
    """``text`` with the password part of any ``scheme://user:password@host`` masked; for URL
    text SQLAlchemy could not parse, so that its password is still never echoed."""
    return _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
