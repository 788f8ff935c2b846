"""The contract of a notification channel type, and what every channel shares.

A channel is declared in the config as ``[channels.NAME]`` with ``type = "..."``; the type is a
:class:`NotifierType` registered through the ``register_notifiers`` hook. Delivery works
like this:

1. The alert tracker writes each :class:`~targetwatch.alerts.Message` to the outbox in the same
   transaction as the state change.
2. After commit, the type's :meth:`NotifierType.open` is called with the checked parameters and
   a :class:`ChannelContext`, and :meth:`Notifier.deliver` with each pending message.
3. ``deliver`` returning means delivered: the row is marked sent. Raising
   :class:`DeliveryError` leaves it in the outbox: ``retryable=True`` is retried on later runs
   with back-off, ``retryable=False`` (the receiver said no, or the channel is misconfigured)
   is marked dead at once and shown. Any other exception is treated as retryable (see
   :func:`attempt`).

Delivery is at least once: a crash between "sent" and "marked sent" sends the message again on
the next run. Every message therefore carries an idempotency ``key``, and every built-in
channel hands it to the receiver (the ``Idempotency-Key`` header on webhooks, the Message-ID
``<key@targetwatch>`` on mail, the ``key`` field in JSON Lines files) so the receiver can drop
that one repeat.

Errors never contain a secret: channels build their error text from what they know is safe
and pass it through :func:`targetwatch.secrets.redact`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from .errors import TargetwatchError
from .params import Invalid, ParamType, ParseContext, describe_found

if TYPE_CHECKING:
    from .alerts import Message

__all__ = ["ChannelContext", "DeliveryError", "Notifier", "NotifierType", "Seconds", "attempt"]


@attrs.frozen
class ChannelContext:
    """What a channel gets when it is opened.

    ``name`` is the channel's name in the config (``[channels.NAME]``); relative paths
    (a JSON Lines file, a ``*_file`` secret) resolve against ``base_dir``, the config file's
    folder.
    """

    name: str
    base_dir: Path = Path(".")

    def path(self, value: str | Path) -> Path:
        """``value`` with ``~`` expanded, resolved against ``base_dir`` when relative."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


class DeliveryError(TargetwatchError):
    """A message could not be delivered.

    ``reason`` says what went wrong in words a user can act on (the receiver's status, the
    SMTP reply, the file path) and never contains a secret. ``retryable`` says whether trying
    again later may succeed (a timeout, a refused connection, a 5xx or 4xx SMTP reply) or not
    (authentication failed, the receiver rejected the request): the outbox retries the former
    with back-off and gives up on the latter at once. ``channel``, when given, prefixes the
    text as ``channel 'NAME': ...``.
    """

    def __init__(self, reason: str, retryable: bool, *, channel: str | None = None) -> None:
        self.reason = reason
        self.retryable = retryable
        self.channel = channel
        super().__init__(f"channel {channel!r}: {reason}" if channel else reason)


class Notifier(Protocol):
    """An opened channel."""

    def deliver(self, message: Message) -> None:
        """Deliver one message, or raise :class:`DeliveryError`.

        Returning means the receiver accepted the message. Delivering the same message twice
        must hand the receiver the same idempotency key (``message.key``) both times.
        """
        ...


class NotifierType:
    """Base class of notifier plugins: ``name``, ``summary``, ``Params`` and :meth:`open`.

    ``name`` is what the config writes as ``type = "..."`` in ``[channels.NAME]``; ``Params``
    is a frozen attrs class whose fields are declared with :func:`targetwatch.params.param`
    (validation, documentation and the JSON Schema derive from it).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    Params: ClassVar[type]

    def open(self, params: Any, context: ChannelContext) -> Notifier:
        """Prepare a channel from its checked parameters.

        Reads what the channel needs once per run (secret files, templates) and sends nothing.
        Raises :class:`~targetwatch.errors.ConfigError` when the configuration turns out
        unusable only now (e.g. a ``password_file`` that cannot be read), naming the key and
        never the secret.
        """
        raise NotImplementedError


def attempt(notifier: Notifier, message: Message, *, channel: str, secrets: Iterable[str | None] = ()) -> DeliveryError | None:
    """Deliver ``message`` through ``notifier``; return ``None`` on success or the error.

    Never raises (except ``KeyboardInterrupt``/``SystemExit``), so one failing channel cannot
    stop the others. A :class:`DeliveryError` comes back with ``channel`` set; any other
    exception (a third-party plugin's bug) becomes a retryable :class:`DeliveryError` naming
    the exception type. ``secrets`` are removed from the text of the latter.
    """
    from .secrets import redact

    try:
        notifier.deliver(message)
    except DeliveryError as exc:
        return exc if exc.channel == channel else DeliveryError(exc.reason, exc.retryable, channel=channel)
    except Exception as exc:  # noqa: BLE001 - a failing channel must not stop the others
        reason = redact(f"{type(exc).__name__}: {exc}", secrets)
        return DeliveryError(reason, True, channel=channel)
    return None


class Seconds(ParamType):
    """A positive time span in seconds: a number (``10``, ``0.5``) or a duration such as
    ``"30s"``, ``"2min"`` (no months). Converts to a ``float`` of seconds."""

    expected = "a number of seconds such as 10 or 0.5, or a duration such as '30s' or '2min'"

    def convert(self, raw: object, ctx: ParseContext) -> float:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            value = float(raw)
        elif isinstance(raw, str) and raw.strip():
            from .durations import parse_duration

            try:
                value = float(raw.strip())
            except ValueError:
                try:
                    span = parse_duration(raw)
                except (ValueError, TypeError):
                    raise Invalid(describe_found(raw)) from None
                if span.months:
                    raise Invalid(f"{describe_found(raw)} (months are not a fixed number of seconds)")
                value = float(span.seconds)
        else:
            raise Invalid(describe_found(raw))
        if not math.isfinite(value) or value <= 0:
            raise Invalid(describe_found(raw))
        return value

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "minLength": 1}]}
