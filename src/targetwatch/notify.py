"""The contract of a notification channel type (used by alerting)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol


class Notifier(Protocol):
    """An opened channel: delivers one message; raises on failure (the caller retries)."""

    def deliver(self, message: Any) -> None:
        ...


class NotifierType:
    """Base class of notifier plugins: ``name``, ``summary``, ``Params`` and :meth:`open`."""

    name: ClassVar[str]
    summary: ClassVar[str]
    Params: ClassVar[type]

    def open(self, params: Any, context: Any) -> Notifier:
        raise NotImplementedError
