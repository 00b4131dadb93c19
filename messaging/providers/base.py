"""The contract of a channel provider: how a queued outbound message leaves Fluxo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from messaging.models import Channel, Message


@dataclass
class SendResult:
    provider_message_id: str
    status: str = "sent"  # sent | delivered
    raw: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A send failed. ``retryable`` errors are retried with backoff; ``pause_channel`` ones stop the sender.

    ``uncertain`` means the request may have reached the provider (a read timeout, a connection
    reset after the request was written): the sender waits for the provider's confirmation before
    sending it again (``messaging.outbound``).
    """

    def __init__(self, message: str, *, code: str = "", retryable: bool = False, pause_channel: bool = False,
                 retry_after: float | None = None, uncertain: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.pause_channel = pause_channel
        self.retry_after = retry_after
        self.uncertain = uncertain


class ChannelProvider:
    key: str = ""

    def __init__(self, channel: Channel):
        self.channel = channel

    def send(self, message: Message) -> SendResult:
        raise NotImplementedError
