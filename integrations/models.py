"""Teams (routing targets), and the integrations' own records.

* :class:`Credential` — the vault: secrets used by HTTP requests, AI providers and notifications.
  Nodes name a credential; its secret is encrypted at rest and never enters a flow definition.
* :class:`ApiIntegration` — an outside system allowed to call ``POST /api/events/`` (API key).
* :class:`Assistant` + :class:`KnowledgeEntry` + :class:`AssistantMemory` — AI replies.
* :class:`WebhookSubscription` + :class:`WebhookDelivery` — outbound webhooks, and
  :class:`IntegrationAlert` — problems an operator must see in the admin.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField, mask
from integrations.http.guard import validate_allow_list


def validate_business_hours(timezone: str, hours, holidays) -> dict[str, list[str]]:
    """Problems of a team's opening hours, by field (empty when valid)."""
    import re
    from datetime import date
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    errors: dict[str, list[str]] = {}
    try:
        ZoneInfo(timezone or "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [f"'{timezone}' is not a time zone (e.g. America/Sao_Paulo)"]
    hhmm = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
    weekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    if not isinstance(hours, dict):
        errors["business_hours"] = ['use {"mon": [["09:00", "18:00"]], ...}']
    else:
        for day, spans in hours.items():
            ok = day in weekdays and isinstance(spans, list) and all(
                isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(t, str) and hhmm.match(t) for t in span)
                and span[0] < span[1] for span in spans)
            if not ok:
                errors.setdefault("business_hours", []).append(
                    f"'{day}': use a weekday (mon…sun) with [[\"09:00\", \"18:00\"], …], start before end")
    if not isinstance(holidays, list):
        errors["holidays"] = ['use a list of ISO dates, e.g. ["2026-12-25"]']
    else:
        for item in holidays:
            try:
                date.fromisoformat(str(item))
            except ValueError:
                errors.setdefault("holidays", []).append(f"'{item}' is not an ISO date (YYYY-MM-DD)")
    return errors


class Team(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="teams")
    priority = models.SmallIntegerField(verbose_name=_("priority"), default=0)
    timezone = models.CharField(verbose_name=_("timezone"), max_length=64, default="America/Sao_Paulo")
    business_hours = models.JSONField(verbose_name=_("business hours"),
        default=dict, blank=True,
        help_text=_('Weekday → list of [start, end], e.g. {"mon": [["09:00", "18:00"]]}'),
    )
    holidays = models.JSONField(verbose_name=_("holidays"), default=list, blank=True, help_text=_('ISO dates, e.g. ["2026-12-25"]'))
    holiday_country = models.CharField(verbose_name=_("holiday country"),
        max_length=2, blank=True, default="",
        help_text=_("Public holidays of this country close the team (the holidays library), e.g. BR."))
    holiday_subdivision = models.CharField(verbose_name=_("holiday subdivision"),
        max_length=8, blank=True, default="", help_text=_("Also the holidays of this state, e.g. SP (blank: national only)."))
    notify_email = models.EmailField(verbose_name=_("notify email"), blank=True, help_text=_("Team mailbox for notifications (else the members')."))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = validate_business_hours(self.timezone, self.business_hours, self.holidays)
        if errors:
            raise ValidationError(errors)

    def all_holidays(self, years: list[int] | None = None) -> list[str]:
        """The team's own dates plus its country's (and state's) public holidays for ``years``."""
        from django.utils import timezone as tz

        from integrations.holidays import public_holidays

        dates = set(self.holidays or [])
        if self.holiday_country:
            now = tz.now().year
            for year in years or [now - 1, now, now + 1]:
                dates.update(item["date"] for item in public_holidays(
                    country=self.holiday_country, subdivision=self.holiday_subdivision, year=year))
        return sorted(dates)

    def hours(self):
        """The team's opening hours as a :class:`flows.engine.calendar.BusinessHours`."""
        from flows.engine.calendar import BusinessHours

        return BusinessHours.from_dict({"timezone": self.timezone, "hours": self.business_hours or {},
                                        "holidays": self.all_holidays()})

    def is_open(self, moment) -> bool:
        """Open at ``moment``? A team without business hours is always open."""
        if not self.business_hours:
            return True
        return self.hours().is_open(moment)


# --- Vault ------------------------------------------------------------------------------------


class Credential(models.Model):
    """A named secret. Flows refer to it by name; the secret is shown back only masked."""

    class Kind(models.TextChoices):
        BEARER = "bearer", _("Bearer token (Authorization: Bearer …)")
        BASIC = "basic", _("HTTP basic (username + password)")
        HEADER = "header", _("Custom header (e.g. X-API-Key)")
        QUERY = "query", _("Query parameter (e.g. ?api_key=…)")
        URL = "url", _("Secret URL (e.g. a Slack incoming webhook)")

    name = models.SlugField(verbose_name=_("name"), max_length=80, unique=True, help_text=_("How flows refer to it, e.g. erp-api."))
    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=Kind.choices, default=Kind.BEARER)
    secret = EncryptedTextField(verbose_name=_("secret"), help_text=_("Token, password, API key or URL. Encrypted at rest."))
    username = models.CharField(verbose_name=_("username"), max_length=200, blank=True, help_text=_("For HTTP basic."))
    header_name = models.CharField(verbose_name=_("header name"), max_length=100, blank=True, default="",
                                   help_text=_("Header for the 'header' kind (default X-API-Key)."))
    query_param = models.CharField(verbose_name=_("query param"), max_length=100, blank=True, default="", help_text=_("For the 'query' kind."))
    base_url = models.URLField(verbose_name=_("base URL"), blank=True, help_text=_("Optional base URL (AI providers: e.g. https://api.openai.com/v1)."))
    allowed_hosts = models.JSONField(verbose_name=_("allowed hosts"),
        default=list, blank=True, validators=[validate_allow_list],
        help_text=_("A JSON list of hosts or CIDRs this credential may reach even when private (e.g. an "
                    "on-premises ERP), each optionally with :port, e.g. [\"erp.internal:8443\", \"10.0.0.0/8\"]. "
                    "Only admins edit credentials, so only admins widen the SSRF guard."),
    )
    description = models.TextField(verbose_name=_("description"), blank=True)
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_masked(self) -> str:
        return mask(self.secret)


# --- Inbound API ------------------------------------------------------------------------------


class ApiIntegration(models.Model):
    """An outside system (shop, CRM, ERP) allowed to send events. Its key is stored hashed."""

    name = models.CharField(verbose_name=_("name"), max_length=120, unique=True)
    key_prefix = models.CharField(verbose_name=_("key prefix"), max_length=16, unique=True, help_text=_("Public part of the key, to find it."))
    key_hash = models.CharField(verbose_name=_("key hash"), max_length=64, help_text=_("SHA-256 of the whole key."))
    is_active = models.BooleanField(verbose_name=_("active"), default=True)
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("api integration")
        verbose_name_plural = _("api integrations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- AI -----------------------------------------------------------------------------------------


class Assistant(models.Model):
    class Provider(models.TextChoices):
        BUILTIN = "builtin", _("Built-in (offline, answers from the knowledge entries)")
        OPENAI = "openai", _("OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, …)")

    name = models.CharField(verbose_name=_("name"), max_length=120, unique=True)
    instructions = models.TextField(verbose_name=_("instructions"), blank=True, help_text=_("System prompt for language-model providers."))
    provider = models.CharField(verbose_name=_("provider"), max_length=16, choices=Provider.choices, default=Provider.BUILTIN)
    model = models.CharField(verbose_name=_("model"), max_length=120, blank=True, help_text=_("e.g. gpt-4o-mini, llama3.1"))
    credential = models.ForeignKey(
        Credential, verbose_name=_("credential"), null=True, blank=True, on_delete=models.PROTECT, related_name="assistants",
        help_text=_("API key (and base URL) of an OpenAI-compatible provider."),
    )
    base_url = models.URLField(verbose_name=_("base URL"), blank=True, help_text=_("Overrides the credential's base URL."))
    temperature = models.FloatField(verbose_name=_("temperature"), default=0.2)
    max_tokens = models.PositiveIntegerField(verbose_name=_("max tokens"), default=400)
    timeout_seconds = models.FloatField(verbose_name=_("timeout (s)"), default=20.0)
    confidence_threshold = models.FloatField(verbose_name=_("confidence threshold"),
        default=0.5, help_text=_("Built-in provider: below this the node takes its failure (handoff) port."))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("assistant")
        verbose_name_plural = _("assistants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KnowledgeEntry(models.Model):
    assistant = models.ForeignKey(Assistant, verbose_name=_("assistant"), on_delete=models.CASCADE, related_name="knowledge")
    question = models.CharField(verbose_name=_("question"), max_length=300, help_text=_("The question or topic, e.g. Qual o prazo de entrega?"))
    answer = models.TextField(verbose_name=_("answer"))
    keywords = models.CharField(verbose_name=_("keywords"), max_length=300, blank=True, help_text=_("Extra words that point here, comma separated."))
    is_active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        verbose_name = _("knowledge entry")
        ordering = ["assistant", "id"]
        verbose_name_plural = _("knowledge entries")

    def __str__(self) -> str:
        return self.question


class AssistantMemory(models.Model):
    """The last turns between one contact and one assistant: ``[{"role", "content", "at"}]``."""

    assistant = models.ForeignKey(Assistant, verbose_name=_("assistant"), on_delete=models.CASCADE, related_name="memories")
    contact = models.ForeignKey("messaging.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="assistant_memories")
    turns = models.JSONField(verbose_name=_("turns"), default=list)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("assistant memory")
        constraints = [models.UniqueConstraint(fields=["assistant", "contact"], name="assistantmemory_unique")]
        verbose_name_plural = _("assistant memories")

    def __str__(self) -> str:
        return f"{self.assistant} ↔ {self.contact}"


# --- Outbound webhooks --------------------------------------------------------------------------

WEBHOOK_EVENT_TYPES = [
    "conversation.opened", "conversation.triaged", "conversation.assigned", "conversation.closed",
    "message.received", "message.sent", "message.delivered", "message.read", "message.failed",
    "run.completed", "run.failed", "run.cancelled", "run.expired", "contact.opted_in", "contact.opted_out",
    "team.notified", "channel.paused",
]


class WebhookSubscription(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=120, unique=True)
    url = models.URLField(verbose_name=_("URL"), max_length=1000)
    event_types = models.JSONField(verbose_name=_("event types"), default=list, help_text=_('Event types, or ["*"] for all.'))
    secret = EncryptedTextField(verbose_name=_("secret"), help_text=_("Signing secret (HMAC-SHA256). Shown once when created."))
    is_active = models.BooleanField(verbose_name=_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(verbose_name=_("consecutive failures"), default=0)
    disabled_at = models.DateTimeField(verbose_name=_("disabled at"), null=True, blank=True)
    disabled_reason = models.TextField(verbose_name=_("disabled reason"), blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one subscription, delivered at least once. Redeliveries are new rows
    sharing ``event_id``, so receivers can deduplicate on the ``X-Fluxo-Event-Id`` header."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETRYING = "retrying", _("Retrying")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed (gave up)")

    subscription = models.ForeignKey(WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(verbose_name=_("event id"), default=uuid.uuid4, db_index=True)
    event_type = models.CharField(verbose_name=_("event type"), max_length=64)
    payload = models.JSONField(verbose_name=_("payload"))
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(verbose_name=_("last status code"), null=True, blank=True)
    last_response = models.TextField(verbose_name=_("last response"), blank=True, help_text=_("First 2 KB of the last response body."))
    last_error = models.TextField(verbose_name=_("last error"), blank=True)
    attempt_log = models.JSONField(verbose_name=_("attempt log"), default=list, help_text=_("[{at, status_code, error, duration_ms}]"))
    redelivery_of = models.ForeignKey("self", verbose_name=_("redelivery of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(verbose_name=_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        ordering = ["-id"]
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_due",
                         condition=Q(status__in=["pending", "retrying"])),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription} ({self.status})"


class IntegrationAlert(models.Model):
    """Something an operator must act on (a webhook disabled after repeated failures, …)."""

    kind = models.CharField(verbose_name=_("kind"), max_length=64)
    message = models.TextField(verbose_name=_("message"))
    subscription = models.ForeignKey(WebhookSubscription, verbose_name=_("subscription"), null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="alerts")
    resolved_at = models.DateTimeField(verbose_name=_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("integration alert")
        verbose_name_plural = _("integration alerts")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"
