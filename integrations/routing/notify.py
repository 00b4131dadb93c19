"""Tell a team that something needs it: a signed outbound webhook, a Slack-compatible incoming
webhook (the URL is a vault secret) or an e-mail through Django's mail backend."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

import requests
from django.core.mail import BadHeaderError, send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.logging import mask_text
from flows.nodes.base import StepError
from integrations.http import client
from integrations.http.guard import BlockedAddress, guard_for
from integrations.models import Credential, WebhookDelivery, WebhookSubscription
from integrations.routing.selectors import team_get_by_name, team_recipients
from integrations.vault.selectors import credential_get_by_name

logger = logging.getLogger(__name__)


def email_send(*, to: list[str], subject: str, body: str) -> int:
    """Send one e-mail (the backend's own timeout applies: ``EMAIL_TIMEOUT``)."""
    return send_mail(subject=subject, message=body, from_email=None, recipient_list=to, fail_silently=False)


@transaction.atomic
def webhook_notify(*, subscription: WebhookSubscription, data: dict[str, Any]) -> WebhookDelivery:
    """Queue a ``team.notified`` delivery to one subscription (signed, retried like any other)."""
    from integrations.webhooks.services import _enqueue

    now = timezone.now()
    delivery = WebhookDelivery(subscription=subscription, event_type="team.notified", next_attempt_at=now)
    delivery.payload = {"id": str(delivery.event_id), "type": "team.notified", "created_at": now.isoformat(),
                        "data": data}
    delivery.save()
    _enqueue(delivery.pk)
    return delivery


def slack_post(*, url: str, text: str, extra_allow: list[str] | None = None, timeout: float = 10.0) -> int:
    """POST ``{"text": ...}`` to a Slack-compatible incoming webhook; raises StepError on failure."""
    try:
        response = client.request("POST", url, json_body={"text": text}, timeout=timeout, max_bytes=64 * 1024,
                                  max_redirects=0, guard=guard_for(extra_allow or []))
    except BlockedAddress as exc:
        raise StepError(mask_text(str(exc)), code="http_blocked")
    except (requests.RequestException, client.BadURL, client.TooManyRedirects, client.ResponseTooLarge) as exc:
        raise StepError(gettext("could not post to the chat webhook: %(reason)s") % {"reason": client.describe_error(exc)},
                        code="notify_failed")
    if not response.ok:
        raise StepError(gettext("the chat webhook answered %(status)s") % {"status": response.status}, code="notify_failed",
                        details={"status": response.status, "body": mask_text(response.text[:300])})
    return response.status


def run_notify(*, run, channel: str, message: str, team: str = "", subject: str = "", to: list[str] | None = None,
               subscription: str = "", credential: str = "") -> dict[str, Any]:
    """The ``notify`` node's runtime service."""
    found_team = None
    if team:
        found_team = team_get_by_name(team)
        if found_team is None:
            raise StepError(gettext("team '%(team)s' does not exist") % {"team": team}, code="team_missing",
                            details={"team": team})
    contact = getattr(run, "contact", None)
    data = {"team": found_team.name if found_team else None, "message": message,
            "contact": {"phone": contact.phone, "name": contact.name} if contact else None,
            "run_id": getattr(run, "pk", None), "conversation_id": getattr(run, "conversation_id", None)}
    if channel == "webhook":
        target = WebhookSubscription.objects.filter(name=subscription).first()
        if target is None:
            raise StepError(gettext("webhook subscription '%(subscription)s' does not exist") % {"subscription": subscription},
                            code="notify_no_target")
        if not target.is_active:
            raise StepError(gettext("webhook subscription '%(subscription)s' is disabled") % {"subscription": subscription},
                            code="notify_disabled")
        delivery = webhook_notify(subscription=target, data=data)
        return {"channel": channel, "delivery_id": delivery.pk, "team": data["team"]}
    if channel == "slack":
        secret_url = credential_get_by_name(credential) if credential else None
        if secret_url is None or secret_url.kind != Credential.Kind.URL:
            raise StepError(gettext("credential '%(credential)s' is not a secret URL in the vault (kind 'url')")
                            % {"credential": credential},
                            code="notify_no_target")
        prefix = f"*{found_team.name}*: " if found_team else ""
        status = slack_post(url=secret_url.secret, text=prefix + message, extra_allow=secret_url.allowed_hosts)
        return {"channel": channel, "status": status, "team": data["team"]}
    if channel == "email":
        recipients = list(to or []) or (team_recipients(found_team) if found_team else [])
        if not recipients:
            raise StepError(gettext("nobody to e-mail: give addresses, or a team with a mailbox or members with e-mail"),
                            code="notify_no_target")
        # Subjects often hold contact data: fold line breaks (a header cannot carry them).
        subject = " ".join((subject or "Fluxo").split())[:200]
        try:
            email_send(to=recipients, subject=subject, body=message)
        except (smtplib.SMTPException, OSError, BadHeaderError) as exc:
            raise StepError(gettext("the e-mail could not be sent: %(error)s") % {"error": exc}, code="notify_failed")
        return {"channel": channel, "to": recipients, "team": data["team"]}
    raise StepError(gettext("unknown notification channel '%(channel)s'") % {"channel": channel},
                    code="notify_channel")
