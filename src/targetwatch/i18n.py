"""The language of the text targetwatch writes for people: English or Simplified Chinese.

The current locale lives in a :class:`~contextvars.ContextVar` (default ``"en"``), so it is
an input like ``as_of``: a verdict built inside ``with use_locale("zh-CN"):`` carries a
Chinese message, one built outside it an English one, and neither leaks into the other
(threads and asyncio tasks each see their own value). Messages are looked up in standard
gettext catalogs shipped in ``targetwatch/locale/<lang>/LC_MESSAGES/targetwatch.mo``; a
message missing from a catalog falls back to its English text.

Msgids use ``str.format`` named placeholders, so a translation may reorder them::

    _("{indicator} in {period}: {value}").format(indicator=..., period=..., value=...)

What stays English in every locale, because machines read it: the status values (``OK``,
``WARN``, ``BREACH``, ``UNKNOWN``, ``ERROR``), JSON keys, JUnit XML and log lines. In human
output a status is shown with the locale's word beside it (:func:`status_label`:
``BREACH 未达标``), so the machine word stays greppable in every language.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from .errors import TargetwatchError

#: The canonical locale names, each with its catalog folder (``None``: the source language).
LOCALES: Final[dict[str, str | None]] = {"en": None, "zh-CN": "zh_CN"}

#: Every name accepted for a locale (config ``locale``, ``--locale``), canonical names first.
ACCEPTED: Final[dict[str, str]] = {"en": "en", "zh-CN": "zh-CN", "zh_CN": "zh-CN", "zh-Hans": "zh-CN"}

#: Where the compiled catalogs live inside the installed package.
LOCALE_DIR: Final = Path(__file__).parent / "locale"
DOMAIN: Final = "targetwatch"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("targetwatch_locale", default="en")


class UnknownLocaleError(TargetwatchError, ValueError):
    """A locale name targetwatch has no catalog for; the message names the available ones."""


def available() -> str:
    """The accepted locale names as a sentence fragment: ``'en', 'zh-CN' (also 'zh_CN', ...)``."""
    canonical = ", ".join(repr(name) for name in LOCALES)
    aliases = ", ".join(repr(name) for name in ACCEPTED if name not in LOCALES)
    return f"{canonical} (also {aliases})"


def normalize(name: str) -> str:
    """The canonical name (``"en"`` or ``"zh-CN"``) for an accepted spelling, matched without
    regard to case (``zh_cn``, ``ZH-Hans``). Raises :class:`UnknownLocaleError` otherwise."""
    folded = {key.lower(): value for key, value in ACCEPTED.items()}
    found = folded.get(name.strip().lower()) if isinstance(name, str) else None
    if found is None:
        raise UnknownLocaleError(f"unknown locale {name!r}; available: {available()}")
    return found


def current() -> str:
    """The canonical name of the locale in effect (``"en"`` unless set)."""
    return _current.get()


def set_locale(name: str) -> contextvars.Token[str]:
    """Make ``name`` the locale of the current context from now on; returns the token that
    :meth:`contextvars.ContextVar.reset` takes to undo it. Prefer :func:`use_locale`."""
    return _current.set(normalize(name))


@contextlib.contextmanager
def use_locale(name: str) -> Iterator[str]:
    """Within the block, text is built in locale ``name``; the previous locale is restored
    after it, even on an exception. Yields the canonical name."""
    token = set_locale(name)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@functools.cache
def catalog(locale: str) -> gettext.NullTranslations:
    """The translations of a canonical locale, read once per process."""
    folder = LOCALES[locale]
    if folder is None:
        return gettext.NullTranslations()
    path = LOCALE_DIR / folder / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        with path.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    except OSError as exc:
        raise TargetwatchError(f"the {locale} message catalog is missing from this installation ({path}): {exc.strerror or exc}") from None


def _(message: str) -> str:
    """``message`` in the current locale (its English text when the catalog lacks it)."""
    return catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current locale (Chinese has one form)."""
    return catalog(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` translated in ``context`` (the same English word may need two translations)."""
    return catalog(_current.get()).pgettext(context, message)


def positional(message: str, *names: str) -> Callable[..., str]:
    """``message.format`` taking its named fields as positional arguments, in the order of
    ``names``: ``positional("{what} of {total}", "what", "total")(a, b)`` is
    ``"{what} of {total}".format(what=a, total=b)``, but without building the keywords on every
    call (a kind formats one message per series). Translations keep their named fields, in
    any order: the message is rewritten once to number them (``{1} of {0}``)."""
    index = {name: str(i) for i, name in enumerate(names)}
    parts = []
    try:
        for literal, field, spec, conversion in string.Formatter().parse(message):
            parts.append(literal.replace("{", "{{").replace("}", "}}"))
            if field is None:
                continue
            cut = min((i for i in (field.find("."), field.find("[")) if i >= 0), default=len(field))
            number = index.get(field[:cut])
            if number is None or "{" in (spec or ""):  # a field not named, or a nested one
                raise ValueError(field)
            conversion = f"!{conversion}" if conversion else ""
            spec = f":{spec}" if spec else ""
            parts.append(f"{{{number}{field[cut:]}{conversion}{spec}}}")
    except ValueError:  # left to str.format, which says what is wrong when it is used

        def by_name(*args: object) -> str:
            return message.format(**dict(zip(names, args)))

        return by_name
    return "".join(parts).format


def status_label(status: str) -> str:
    """A status for people: the machine word, and in a translated locale the local word
    beside it (``BREACH`` in English, ``BREACH 未达标`` in Chinese)."""
    words = {
        "OK": pgettext("status", "OK"),
        "WARN": pgettext("status", "WARN"),
        "BREACH": pgettext("status", "BREACH"),
        "UNKNOWN": pgettext("status", "UNKNOWN"),
        "ERROR": pgettext("status", "ERROR"),
        "RESOLVED": pgettext("status", "RESOLVED"),  # an alert that is over, in notifications
    }
    word = words.get(status, status)
    return status if word == status else f"{status} {word}"


def html_lang() -> str:
    """The current locale as an HTML ``lang`` value (``en``, ``zh-CN``)."""
    return _current.get()


__all__ = [
    "ACCEPTED",
    "LOCALES",
    "UnknownLocaleError",
    "_",
    "available",
    "current",
    "ngettext",
    "normalize",
    "pgettext",
    "positional",
    "set_locale",
    "status_label",
    "use_locale",
]
