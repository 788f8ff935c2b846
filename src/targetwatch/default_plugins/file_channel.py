"""The ``file`` channel: notifications appended to a JSON Lines file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import attrs

from ..alerts import Message
from ..hookspecs import hookimpl
from ..notify import ChannelContext, DeliveryError, Notifier, NotifierType
from ..params import Text, param


@attrs.frozen
class FileParams:
    """Parameters of the ``file`` channel."""

    path: str = param(
        Text(),
        doc="The JSON Lines file to append to; relative to the config file's folder. Missing folders are created.",
    )


class FileChannel(NotifierType):
    """Appends each message as one JSON object per line (JSON Lines).

    What you can rely on:

    - One line per delivery: ``Message.as_dict()`` (``channel``, ``key``, ``subject``,
      ``text``, ``events``, ``omitted``, ``created_at``, ``as_of``) as compact JSON with
      non-ASCII text kept as is (UTF-8), followed by ``\\n``.
    - The line is written with one ``write`` on a file opened for appending, then flushed and
      ``fsync``-ed before ``deliver`` returns: a delivered message survives a power cut.
    - If a previous write was cut short (the file does not end with a newline), a newline is
      written first, so the torn line never swallows the new one.
    - At-least-once: after a crash between writing and marking sent, a message may appear
      twice. Readers dedupe on ``key``.
    - Missing parent folders are created. Any failure to write (permissions, a full disk, a
      folder in the way) is a retryable :class:`~targetwatch.notify.DeliveryError` naming the
      file, so a fix by the administrator is picked up on the next run.
    """

    name = "file"
    summary = "appends each notification as one JSON object per line (JSON Lines) to a file"
    Params = FileParams

    def open(self, params: FileParams, context: ChannelContext) -> Notifier:
        return _FileNotifier(context.path(params.path))


@attrs.frozen
class _FileNotifier:
    path: Path

    def deliver(self, message: Message) -> None:
        line = json.dumps(message.as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                size = os.fstat(fd).st_size
                if size and _last_byte(self.path) != b"\n":
                    data = b"\n" + data
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DeliveryError(f"cannot append to {str(self.path)!r}: {reason}", True) from None


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


@hookimpl
def register_notifiers(register: Callable[[NotifierType], None]) -> None:
    register(FileChannel())
