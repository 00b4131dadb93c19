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
    """A send failed. ``retryable`` errors are retried with backoff; ``pause_channel`` ones stop the sender."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False, pause_channel: bool = False,
                 retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.pause_channel = pause_channel
        self.retry_after = retry_after


class ChannelProvider:
    key: str = ""

    def __init__(self, channel: Channel):
        self.channel = channel

    def send(self, message: Message) -> SendResult:
        raise NotImplementedError
