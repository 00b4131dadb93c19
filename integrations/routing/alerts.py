"""Alerts, the integrations side: disabled outbound webhooks as an alert condition, and sending an
alert to a team through the ``notify`` targets (signed webhook, Slack-compatible webhook, e-mail).
Registered with ``flows.alerts`` by ``IntegrationsConfig.ready``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows.alerts import Condition
from flows.models import Alert
from integrations.models import WebhookSubscription
from integrations.routing.notify import run_notify


def disabled_webhooks(now: datetime) -> list[Condition]:
    """Each outbound webhook subscription that Fluxo disabled after repeated failures."""
    return [Condition(Alert.Kind.WEBHOOK_DISABLED, f"webhook:{s.pk}", {"name": s.name, "reason": s.disabled_reason},
                      link=f"/admin/integrations/webhooksubscription/{s.pk}/change/")
            for s in WebhookSubscription.objects.filter(is_active=False, disabled_at__isnull=False)]


def alert_notify(*, settings, subject: str, text: str, alert: dict[str, Any]) -> dict[str, Any]:
    """Send one alert with the target of ``settings`` (an AlertSettings row). Raises StepError on failure."""
    return run_notify(run=None, channel=settings.notify_channel, message=text, team=settings.notify_team,
                      subject=subject, to=list(settings.notify_to or []), subscription=settings.notify_subscription,
                      credential=settings.notify_credential)
