"""The ``console`` channel: notifications written to the terminal (or cron's mail)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import attrs

from ..alerts import Message
from ..hookspecs import hookimpl
from ..notify import ChannelContext, DeliveryError, Notifier, NotifierType
from ..params import Choice, param


@attrs.frozen
class ConsoleParams:
    """Parameters of the ``console`` channel."""

    stream: str = param(
        Choice("stderr", "stdout"),
        default="stderr",
        doc="Where to write: stderr (the default, so `--format json` on stdout stays machine-readable) or stdout.",
    )


class ConsoleChannel(NotifierType):
    """Writes each message to standard error (or standard output).

    What you can rely on:

    - Each message is written as its subject on one line, then its text, then one empty line,
      and flushed at once. Under cron the output reaches the job's mail.
    - The default stream is ``stderr``: ``targetwatch check --format json`` keeps standard
      output for the JSON document alone.
    - The stream is looked up when a message is delivered, so redirections made after the
      channel opened (and test capture) are honoured.
    - A stream that cannot be written (closed, a broken pipe) is a retryable
      :class:`~targetwatch.notify.DeliveryError`.
    """

    name = "console"
    summary = "writes each notification's subject and text to stderr (or stdout)"
    Params = ConsoleParams

    def open(self, params: ConsoleParams, context: ChannelContext) -> Notifier:
        stream: Callable[[], TextIO] = (lambda: sys.stdout) if params.stream == "stdout" else (lambda: sys.stderr)
        return _ConsoleNotifier(params.stream, stream)


@attrs.frozen
class _ConsoleNotifier:
    stream_name: str
    stream: Callable[[], TextIO]

    def deliver(self, message: Message) -> None:
        text = message.text.rstrip("\n")
        out = f"{message.subject}\n{text}\n\n" if text else f"{message.subject}\n\n"
        try:
            stream = self.stream()
            stream.write(out)
            stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: I/O operation on a closed file
            raise DeliveryError(f"cannot write to {self.stream_name}: {exc}", True) from None


@hookimpl
def register_notifiers(register: Callable[[NotifierType], None]) -> None:
    register(ConsoleChannel())
