"""Sandbox provider: the message is 'delivered' to the sandbox phone page; nothing leaves the machine."""

from __future__ import annotations

from messaging.providers.base import ChannelProvider, SendResult
from messaging.providers.registry import register


@register
class SandboxProvider(ChannelProvider):
    key = "sandbox"

    def send(self, message) -> SendResult:
        return SendResult(provider_message_id=f"sandbox.{message.pk}", status="delivered")
