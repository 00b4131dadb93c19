"""Channel providers by key; a channel's ``provider_key`` names its provider."""

from __future__ import annotations

from messaging.providers.base import ChannelProvider

_providers: dict[str, type[ChannelProvider]] = {}


def register(cls: type[ChannelProvider]) -> type[ChannelProvider]:
    _providers[cls.key] = cls
    return cls


def provider_for(channel) -> ChannelProvider:
    from messaging import providers  # noqa: F401  (registers the providers)

    try:
        return _providers[channel.provider_key](channel)
    except KeyError:
        raise LookupError(f"no provider for channel kind {channel.provider_key!r}") from None
