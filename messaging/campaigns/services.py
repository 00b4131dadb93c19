"""Writes of campaigns: segments, campaigns, planning, the feeder, the actions, quality pauses, replies.

Planning materializes a campaign's :class:`CampaignRecipient` rows in batches (a cursor on the
contact id, each batch one transaction), excluded ones with their reason. The *feeder* (beat,
every ``FLUXO_CAMPAIGN_FEED_INTERVAL`` s, and kicked by start/resume) holds the campaign's row
lock, queues the next recipients as outbound ``Message`` rows at the pace the limits allow, with
a lower priority than conversational replies, and moves its cursor in the same transaction: a
recipient's message has the unique idempotency key ``campaign:<id>:r:<recipient>``, so a crash,
a kill or a second feeder never queues one twice, and a rolled back batch is simply fed again.
Pause and cancel take back what is still queued (never claimed by a sender: nothing of it left)
and put those recipients back to pending; resume feeds them again.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.signals import domain_event_emit
from messaging.campaigns import limits
from messaging.campaigns.segments import SegmentInvalid, segment_contacts, segment_q
from messaging.models import (
    Campaign,
    CampaignRecipient,
    Channel,
    ChannelAlert,
    Contact,
    ImportedContact,
    Message,
    MessageTemplate,
    Segment,
)
from messaging.phones import InvalidPhone, phone_normalize, phone_restricted_region

logger = logging.getLogger(__name__)

CAMPAIGN_PRIORITY = -10  # below conversational replies (0): see messaging.outbound._claim_batch
PLAN_BATCH = 2000
FEED_BATCH = 5000  # at most this many recipients queued by one tick (one transaction)
PARAM_SOURCES = ("field", "attribute", "constant")
CONTACT_FIELDS = ("name", "phone", "first_name")
LOW_QUALITY = {"RED", "FLAGGED", "LOW"}


class CampaignRejected(ValueError):
    """The campaign cannot be saved or started as asked; ``field`` says where."""

    def __init__(self, message: str, *, field: str = "non_field_errors", code: str = "invalid"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


def feed_interval() -> float:
    return float(getattr(settings, "FLUXO_CAMPAIGN_FEED_INTERVAL", 2.0))


# --- Segments -----------------------------------------------------------------------------------


def segment_save(*, segment: Segment | None = None, name: str, definition: dict[str, Any], user=None) -> Segment:
    """Create or change a segment (the definition is compiled first: a bad one raises SegmentInvalid)."""
    segment_q(definition)
    if segment is None:
        return Segment.objects.create(name=name.strip()[:200], definition=definition, created_by=user)
    segment.name, segment.definition = name.strip()[:200], definition
    segment.save(update_fields=["name", "definition", "updated_at"])
    return segment


def imported_contacts_record(*, contact_import_id: int, contact_ids: list[int]) -> None:
    """Remember which contacts an import wrote (the "imported in a batch" condition and CSV audiences)."""
    ImportedContact.objects.bulk_create(
        [ImportedContact(contact_import_id=contact_import_id, contact_id=pk) for pk in contact_ids],
        ignore_conflicts=True)


# --- Campaigns: edit, check ---------------------------------------------------------------------


def _parameters_clean(parameters: Any, template: MessageTemplate | None) -> list[dict[str, str]]:
    from messaging.contacts import ATTRIBUTE_KEY
    from messaging.rules import template_placeholders

    if not isinstance(parameters, list):
        raise CampaignRejected(_("parameters is a list"), field="parameters")
    clean = []
    for index, item in enumerate(parameters):
        if not isinstance(item, dict) or item.get("source") not in PARAM_SOURCES:
            raise CampaignRejected(_("each parameter has a source: field, attribute or constant"),
                                   field=f"parameters.{index}")
        value = str(item.get("value", ""))
        if item["source"] == "field" and value not in CONTACT_FIELDS:
            raise CampaignRejected(_("contact fields are %(list)s") % {"list": ", ".join(CONTACT_FIELDS)},
                                   field=f"parameters.{index}.value")
        if item["source"] == "attribute" and not ATTRIBUTE_KEY.match(value):
            raise CampaignRejected(_("attribute names use letters, digits and _"), field=f"parameters.{index}.value")
        entry = {"source": item["source"], "value": value[:1024]}
        if item.get("fallback"):
            entry["fallback"] = str(item["fallback"])[:1024]
        clean.append(entry)
    if template is not None:
        placeholders = template_placeholders(template.body_text)
        named = [p for p in placeholders if not p.isdigit()]
        for index, entry in enumerate(clean):
            if index < len(named):
                entry["name"] = named[index]
    return clean


def campaign_save(*, campaign: Campaign | None = None, data: dict[str, Any], user=None) -> Campaign:
    """Create a campaign or change a draft (channel, template, parameters, audience, schedule, reply flow)."""
    if campaign is not None and campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        raise CampaignRejected(_("only a draft or scheduled campaign can be changed"), code="not_editable")
    campaign = campaign or Campaign(created_by=user)
    for key in ("name", "channel", "template", "segment", "contact_import", "reply_flow_id", "reply_window_hours"):
        if key in data:
            setattr(campaign, key, data[key])
    if "timezone" in data:
        try:
            zoneinfo.ZoneInfo(str(data["timezone"]))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CampaignRejected(_("unknown time zone %(tz)s") % {"tz": data["timezone"]}, field="timezone") from None
        campaign.timezone = str(data["timezone"])
    if "scheduled_at" in data:
        moment = data["scheduled_at"]
        if moment is not None and timezone.is_naive(moment):  # a wall-clock time in the campaign's zone
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(campaign.timezone))
        campaign.scheduled_at = moment
    if campaign.template is not None and campaign.channel is not None and campaign.template.channel_id not in (
            None, campaign.channel.pk):
        raise CampaignRejected(_("the template belongs to another channel"), field="template")
    if "parameters" in data:
        campaign.parameters = _parameters_clean(data["parameters"], campaign.template)
    elif campaign.template is not None:
        campaign.parameters = _parameters_clean(campaign.parameters or [], campaign.template)
    if campaign.segment_id and campaign.contact_import_id:
        raise CampaignRejected(_("pick a segment or a CSV, not both"), field="segment")
    campaign.save()
    return campaign


def opt_out_keywords() -> list[str]:
    return [k for k in getattr(settings, "WHATSAPP_OPT_OUT_KEYWORDS", ["SAIR", "PARAR", "STOP"]) if k]


def campaign_check(*, campaign: Campaign) -> dict[str, list[dict[str, str]]]:
    """The publish-time check: errors stop a start, warnings are shown. ``{"errors": [...], "warnings": [...]}``.

    A campaign is always a template (free-form text cannot start a conversation); it must be
    approved, have one value per variable, and a marketing one goes only to opted-in contacts
    (the planner excludes the others) and should tell how to stop receiving them.
    """
    errors: list[dict[str, str]] = []
    warnings: list[dict[str, str]] = []
    template = campaign.template
    if campaign.channel_id is None:
        errors.append({"code": "no_channel", "field": "channel", "message": _("pick a channel")})
    if template is None:
        errors.append({"code": "no_template", "field": "template", "message": _(
            "a campaign sends an approved template: free-form text cannot start a conversation")})
    else:
        if template.status != MessageTemplate.Status.APPROVED:
            errors.append({"code": "template_not_approved", "field": "template", "message": _(
                "template %(name)s is %(status)s, not approved") % {"name": template.name, "status": template.status}})
        expected = template.parameter_count
        if len(campaign.parameters or []) != expected:
            errors.append({"code": "template_param_count", "field": "parameters", "message": _(
                "the template has %(n)s variables: map one value to each") % {"n": expected}})
        if template.category == MessageTemplate.Category.MARKETING:
            body = (template.body_text or "").upper()
            footer = " ".join(str(c.get("text", "")) for c in template.components or []).upper()
            if not any(k.upper() in body or k.upper() in footer for k in opt_out_keywords()):
                warnings.append({"code": "no_opt_out_text", "field": "template", "message": _(
                    "a marketing template should say how to stop receiving messages (e.g. \"Responda SAIR para "
                    "não receber mais\")")})
            warnings.append({"code": "marketing_opt_in", "field": "template", "message": _(
                "marketing: only contacts opted in to marketing receive it; the others are excluded")})
    if campaign.segment_id is None and campaign.contact_import_id is None:
        errors.append({"code": "no_audience", "field": "segment", "message": _("pick a segment or a CSV")})
    if campaign.channel_id and campaign.channel.is_paused:
        errors.append({"code": "channel_paused", "field": "channel", "message": _("the channel is paused")})
    return {"errors": errors, "warnings": warnings}


# --- Audience -----------------------------------------------------------------------------------


def campaign_audience(campaign: Campaign):
    """The contacts a campaign targets before exclusions (its segment, or its CSV batch)."""
    base = Contact.objects.filter(is_test=False)
    if campaign.contact_import_id:
        return base.filter(pk__in=ImportedContact.objects.filter(contact_import_id=campaign.contact_import_id)
                           .values("contact_id"))
    if campaign.segment_id:
        return segment_contacts(campaign.segment.definition, base=base)
    return base.none()


def exclusion_reason(*, phone: str, consent: dict[str, Any], category: str, seen: set[str] | None = None,
                     messaged: set[int] | None = None, contact_id: int | None = None) -> str:
    """Why a contact does not get this campaign ('' when it does)."""
    try:
        e164 = phone_normalize(phone)
    except InvalidPhone:
        return CampaignRecipient.Reason.INVALID_NUMBER
    if phone_restricted_region(e164):
        return CampaignRecipient.Reason.RESTRICTED_NUMBER
    state = ((consent or {}).get(category) or {}).get("state", Contact.Consent.UNKNOWN)
    if state == Contact.Consent.OPTED_OUT:
        return CampaignRecipient.Reason.OPTED_OUT
    if category == "marketing" and state != Contact.Consent.OPTED_IN:
        return CampaignRecipient.Reason.NOT_OPTED_IN
    if messaged is not None and contact_id in messaged:
        return CampaignRecipient.Reason.ALREADY_MESSAGED
    if seen is not None:
        if e164 in seen:
            return CampaignRecipient.Reason.DUPLICATE
        seen.add(e164)
    return ""


def _category(campaign: Campaign) -> str:
    return str(campaign.template.category).lower() if campaign.template_id else "marketing"


def _messaged_by_campaign(campaign: Campaign) -> set[int]:
    """Contacts this campaign already sent to outside its recipients (a test send)."""
    return set(Message.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:test:")
               .values_list("contact_id", flat=True))


E164 = r"^\+[1-9][0-9]{6,14}$"


def _plan_batch_sql(campaign: Campaign, batch: int) -> int | None:
    """PostgreSQL: classify and insert the next batch in one ``INSERT … SELECT`` (the audience's own
    query, bound parameters only). Returns the last contact id planned, or None when none is left.

    Stored phones are E.164 already (every write normalizes them): a number not of that shape is
    invalid, one of a restricted country's prefix restricted. Duplicates cannot occur here (one
    contact per E.164 number); the Python path (other databases) checks them too.
    """
    from django.db import connection

    from messaging.phones import RESTRICTED_PREFIXES

    audience = campaign_audience(campaign).filter(pk__gt=campaign.plan_cursor).order_by("pk").values(
        "pk", "phone", "consent")[:batch]
    sql, params = audience.query.sql_with_params()
    category = _category(campaign)
    restricted = " OR ".join(["a.phone LIKE %s"] * len(RESTRICTED_PREFIXES)) or "FALSE"
    state = "COALESCE(a.consent -> %s ->> 'state', 'unknown')"
    reason = (f"CASE WHEN a.phone !~ %s THEN 'invalid_number' WHEN ({restricted}) THEN 'restricted_number' "
              f"WHEN {state} = 'opted_out' THEN 'opted_out' "
              f"WHEN %s = 'marketing' AND {state} <> 'opted_in' THEN 'not_opted_in' "
              f"WHEN a.id IN (SELECT m.contact_id FROM {Message._meta.db_table} m WHERE m.idempotency_key LIKE %s) "
              f"THEN 'already_messaged' ELSE '' END")
    reason_params = [E164, *[prefix + "%" for prefix in RESTRICTED_PREFIXES], category, category, category,
                     f"campaign:{campaign.pk}:test:%"]
    table = CampaignRecipient._meta.db_table
    statement = (f"WITH a (id, phone, consent) AS ({sql}), planned AS ("
                 f"INSERT INTO {table} (campaign_id, contact_id, status, reason, in_window) "
                 f"SELECT %s, a.id, CASE WHEN r.reason = '' THEN 'pending' ELSE 'excluded' END, r.reason, FALSE "
                 f"FROM a CROSS JOIN LATERAL (SELECT {reason} AS reason) r "
                 f"ON CONFLICT (campaign_id, contact_id) DO NOTHING) SELECT MAX(id) FROM a")
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, campaign.pk, *reason_params])
        row = cursor.fetchone()
    return row[0] if row else None


def campaign_plan_batch(*, campaign_id: int, batch: int = PLAN_BATCH) -> int:
    """Materialize the next batch of recipients (one transaction). Returns how many; 0 when planned."""
    from django.db import connection

    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related("template", "segment").get(pk=campaign_id)
        if campaign.planned:
            return 0
        if connection.vendor == "postgresql":
            last = _plan_batch_sql(campaign, batch)
            if last is None:
                Campaign.objects.filter(pk=campaign.pk).update(planned=True)
                return 0
            Campaign.objects.filter(pk=campaign.pk).update(plan_cursor=last)
            return CampaignRecipient.objects.filter(campaign=campaign, contact_id__gt=campaign.plan_cursor,
                                                    contact_id__lte=last).count()
        rows = list(campaign_audience(campaign).filter(pk__gt=campaign.plan_cursor).order_by("pk")
                    .values_list("pk", "phone", "consent")[:batch])
        if not rows:
            Campaign.objects.filter(pk=campaign.pk).update(planned=True)
            return 0
        category, messaged = _category(campaign), _messaged_by_campaign(campaign)
        # Duplicates: the same E.164 number on two contacts (a number stored in two spellings).
        seen: set[str] = set()
        recipients = []
        for pk, phone, consent in rows:
            reason = exclusion_reason(phone=phone, consent=consent, category=category, seen=seen, messaged=messaged,
                                      contact_id=pk)
            recipients.append(CampaignRecipient(
                campaign_id=campaign.pk, contact_id=pk, reason=reason,
                status=CampaignRecipient.Status.EXCLUDED if reason else CampaignRecipient.Status.PENDING))
        CampaignRecipient.objects.bulk_create(recipients, ignore_conflicts=True, batch_size=1000)
        Campaign.objects.filter(pk=campaign.pk).update(plan_cursor=rows[-1][0])
        return len(rows)


def campaign_plan(*, campaign_id: int, batch: int = PLAN_BATCH) -> int:
    """Plan the whole audience (all batches). Returns how many contacts were looked at."""
    total = 0
    while True:
        done = campaign_plan_batch(campaign_id=campaign_id, batch=batch)
        if not done:
            return total
        total += done


# --- Messages -----------------------------------------------------------------------------------


def _param_value(entry: dict[str, str], contact: Contact) -> str:
    source, value = entry.get("source"), entry.get("value", "")
    if source == "constant":
        text = value
    elif source == "field":
        text = {"name": contact.name, "phone": contact.phone,
                "first_name": (contact.name or "").split(" ")[0]}.get(value, "")
    else:
        raw = (contact.attributes or {}).get(value)
        text = "" if raw is None else str(raw)
    return text or entry.get("fallback", "") or "-"


def campaign_content(*, campaign: Campaign, contact: Contact) -> dict[str, Any]:
    """The outbound message of one recipient: the template with its variables filled in, as stored."""
    from messaging.services import _render_preview, _template_quick_replies

    template = campaign.template
    params = []
    for entry in campaign.parameters or []:
        param = {"type": "text", "text": _param_value(entry, contact)[:1024]}
        if entry.get("name"):
            param["parameter_name"] = entry["name"]
        params.append(param)
    components = [{"type": "body", "parameters": params}] if params else []
    content: dict[str, Any] = {"template": {"name": template.name, "language": {"code": template.language},
                                            "components": components}}
    stored = dict(content)
    preview = _render_preview("template", content, template)
    if preview:
        stored["rendered_text"] = preview
    stored["template_category"] = str(template.category).lower()
    buttons = _template_quick_replies(template, content)
    if buttons:
        stored["template_buttons"] = buttons
    stored["campaign_id"] = campaign.pk
    return stored


def campaign_test_send(*, campaign: Campaign, phone: str, user=None) -> Message:
    """Send the campaign's message to one number now (WhatsApp's rules apply: raises SendRefused)."""
    from messaging.services import contact_get_or_create, message_queue_outbound

    check = campaign_check(campaign=campaign)
    blocking = [e for e in check["errors"] if e["code"] != "no_audience"]
    if blocking:
        raise CampaignRejected(blocking[0]["message"], field=blocking[0]["field"], code=blocking[0]["code"])
    try:
        contact, _created = contact_get_or_create(phone=phone, channel=campaign.channel)
    except InvalidPhone as exc:
        raise CampaignRejected(str(exc), field="phone", code="invalid_phone") from exc
    now = timezone.now()
    message = message_queue_outbound(
        contact=contact, conversation=None, kind="template", content=campaign_content(campaign=campaign, contact=contact),
        idempotency_key=f"campaign:{campaign.pk}:test:{contact.pk}:{now.timestamp():.6f}")
    Campaign.objects.filter(pk=campaign.pk).update(test_sent_at=now)
    campaign.test_sent_at = now
    return message


# --- Actions ------------------------------------------------------------------------------------


def _feed_kick(campaign_id: int) -> None:
    from messaging.tasks import campaign_feed

    transaction.on_commit(lambda: campaign_feed.delay(campaign_id))


def campaign_start(*, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """Start now, or at its scheduled time (status scheduled). Raises CampaignRejected on a check error."""
    now = now or timezone.now()
    check = campaign_check(campaign=campaign)
    if check["errors"]:
        first = check["errors"][0]
        raise CampaignRejected(first["message"], field=first["field"], code=first["code"])
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            raise CampaignRejected(_("the campaign was started already"), code="not_draft")
        if locked.scheduled_at and locked.scheduled_at > now:
            locked.status = Campaign.Status.SCHEDULED
        else:
            locked.status, locked.started_at = Campaign.Status.RUNNING, now
            _feed_kick(locked.pk)
        locked.save(update_fields=["status", "started_at"])
    domain_event_emit(event_type=f"campaign.{locked.status}", data={"campaign_id": locked.pk})
    return locked


def _take_back_queued(campaign: Campaign) -> int:
    """Pause/cancel: what is still queued (no sender claimed it) leaves the outbound queue; its
    recipients are pending again. A message being sent, or sent, stays. Returns how many.

    One statement: ``DELETE … WHERE status = 'queued'`` (a sender's claim is an UPDATE of the same
    row, so either the claim or the delete wins, never both) feeding the recipients' UPDATE, which
    finds them by message id only (the keys are the campaign's: a campaign filter there lets stale
    statistics pick a plan quadratic in the campaign's size).
    Nothing else refers to a campaign message that never left (the consent history points at
    inbound messages; the stats' facts hold ids, not keys).
    """
    from django.db import connection

    if connection.vendor != "postgresql":  # the same, in three statements (SQLite: no DML in a CTE)
        queued = Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED,
                                        idempotency_key__startswith=f"campaign:{campaign.pk}:r:")
        ids = list(queued.values_list("pk", flat=True))
        back = CampaignRecipient.objects.filter(campaign=campaign, message_id__in=ids)
        lowest = min(back.values_list("pk", flat=True), default=None)
        back.update(status=CampaignRecipient.Status.PENDING, message=None, queued_at=None)
        deleted = Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).delete()[0]
        if lowest is not None:
            Campaign.objects.filter(pk=campaign.pk, feed_cursor__gte=lowest).update(feed_cursor=lowest - 1)
        return deleted
    messages, recipients = Message._meta.db_table, CampaignRecipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {messages} WHERE direction = 'out' AND status = 'queued' "
            f"AND idempotency_key LIKE %s RETURNING id), back AS (UPDATE {recipients} SET status = 'pending', "
            f"message_id = NULL, queued_at = NULL WHERE message_id IN (SELECT id FROM gone) "
            f"RETURNING id) SELECT (SELECT COUNT(*) FROM gone), (SELECT MIN(id) FROM back)",
            [f"campaign:{campaign.pk}:r:%"])
        deleted, lowest = cursor.fetchone()
    if lowest is not None:
        Campaign.objects.filter(pk=campaign.pk, feed_cursor__gte=lowest).update(feed_cursor=lowest - 1)
    return int(deleted or 0)


def campaign_pause(*, campaign: Campaign, reason: str = "") -> Campaign:
    """Stop feeding and take back what is still queued (resume sends it). No-op unless running/scheduled."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED):
            return locked
        locked.status, locked.pause_reason = Campaign.Status.PAUSED, reason[:2000]
        locked.save(update_fields=["status", "pause_reason"])
        _take_back_queued(locked)
    domain_event_emit(event_type="campaign.paused", data={"campaign_id": locked.pk, "reason": reason})
    return Campaign.objects.get(pk=locked.pk)


def campaign_resume(*, campaign: Campaign) -> Campaign:
    """An operator resumes a paused campaign (also one paused for the channel's quality)."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Campaign.Status.PAUSED:
            raise CampaignRejected(_("only a paused campaign can be resumed"), code="not_paused")
        now = timezone.now()
        if locked.scheduled_at and locked.scheduled_at > now and locked.started_at is None:
            locked.status, locked.pause_reason = Campaign.Status.SCHEDULED, ""  # paused before its time
        else:
            locked.status, locked.pause_reason = Campaign.Status.RUNNING, ""
            locked.started_at = locked.started_at or now
            _feed_kick(locked.pk)
        locked.save(update_fields=["status", "pause_reason", "started_at"])
    domain_event_emit(event_type="campaign.resumed", data={"campaign_id": locked.pk})
    return locked


def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Stop for good: nothing more is queued; what is still queued is taken back."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
            return locked
        locked.status, locked.finished_at = Campaign.Status.CANCELLED, timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        _take_back_queued(locked)
    domain_event_emit(event_type="campaign.cancelled", data={"campaign_id": locked.pk})
    return locked


# --- The feeder ---------------------------------------------------------------------------------


def channel_in_flight(channel_id: int) -> int:
    """Campaign messages of a channel queued and not yet sent (all campaigns)."""
    return Message.objects.filter(channel_id=channel_id, direction=Message.Direction.OUTBOUND,
                                  status__in=(Message.Status.QUEUED, Message.Status.UNCERTAIN),
                                  priority__lt=0).count()


def channel_counted_24h(channel_id: int, now: datetime) -> int:
    """Unique users outside their window a channel's campaigns messaged in the moving 24 hours."""
    return (CampaignRecipient.objects.filter(status=CampaignRecipient.Status.QUEUED, in_window=False,
                                             queued_at__gt=now - limits.WINDOW, campaign__channel_id=channel_id)
            .values("contact_id").distinct().count())


def campaign_feed(*, campaign_id: int, now: datetime | None = None, plan_batch: int = PLAN_BATCH) -> int:
    """One tick of the feeder for one campaign: plan a batch if needed, queue what the limits allow.

    Returns how many messages it queued. Holds the campaign's row (SKIP LOCKED: a second feeder
    at the same moment does nothing) for the whole tick; the messages, the recipients' status and
    the cursor commit together.
    """
    from messaging.channel_cache import channel_get
    from messaging.outbound import outbound_kick

    now = now or timezone.now()
    campaign = Campaign.objects.filter(pk=campaign_id).only("status", "planned").first()
    if campaign is None or campaign.status != Campaign.Status.RUNNING:
        return 0
    if not campaign.planned:
        # Plan ahead of what a tick can queue (planning is cheaper than queueing), a few batches a tick.
        for _ in range(-(-FEED_BATCH // plan_batch)):
            if not campaign_plan_batch(campaign_id=campaign_id, batch=plan_batch):
                break
    with transaction.atomic():
        campaign = (Campaign.objects.select_for_update(skip_locked=True, of=("self",)).select_related("template")
                    .filter(pk=campaign_id, status=Campaign.Status.RUNNING).first())
        if campaign is None:
            return 0
        channel = channel_get(campaign.channel_id)
        if channel is None or channel.is_paused:
            return 0
        allowance = limits.feed_allowance(throughput=limits.channel_throughput(channel), interval=feed_interval(),
                                          in_flight=channel_in_flight(channel.pk))
        if allowance <= 0:
            return 0
        allowance = min(allowance, FEED_BATCH)
        limit = limits.channel_messaging_limit(channel)
        remaining = limits.tier_remaining(limit=limit, counted_24h=channel_counted_24h(channel.pk, now)
                                          if limit is not None else 0)
        batch = list(CampaignRecipient.objects.filter(campaign=campaign, status=CampaignRecipient.Status.PENDING,
                                                      pk__gt=campaign.feed_cursor)
                     .select_related("contact").order_by("pk")[:allowance])
        if not batch:
            _complete_if_done(campaign, now)
            return 0
        category = _category(campaign)
        keys = {f"campaign:{campaign.pk}:r:{r.pk}": r for r in batch}
        existing = dict(Message.objects.filter(idempotency_key__in=list(keys)).values_list("idempotency_key", "pk"))
        messages, queued, excluded, cursor = [], [], [], campaign.feed_cursor
        for recipient in batch:
            contact = recipient.contact
            reason = exclusion_reason(phone=contact.phone, consent=contact.consent, category=category)
            if reason:  # consent changed since planning
                recipient.status, recipient.reason = CampaignRecipient.Status.EXCLUDED, reason
                excluded.append(recipient)
                cursor = recipient.pk
                continue
            in_window = contact.in_service_window(now)
            if not in_window and remaining is not None:
                if remaining <= 0:
                    break  # the messaging limit is reached: the rest waits for places to free up
                remaining -= 1
            key = f"campaign:{campaign.pk}:r:{recipient.pk}"
            recipient.status, recipient.queued_at, recipient.in_window = CampaignRecipient.Status.QUEUED, now, in_window
            if key in existing:
                recipient.message_id = existing[key]
            else:
                messages.append(Message(
                    direction=Message.Direction.OUTBOUND, kind="template", contact_id=contact.pk,
                    content=campaign_content(campaign=campaign, contact=contact),
                    conversation_id=contact.current_conversation_id, channel_id=channel.pk, idempotency_key=key,
                    status=Message.Status.QUEUED, priority=CAMPAIGN_PRIORITY))
            queued.append(recipient)
            cursor = recipient.pk
        Message.objects.bulk_create(messages, batch_size=1000)
        by_key = {m.idempotency_key: m.pk for m in messages}
        for recipient in queued:
            if recipient.message_id is None:
                recipient.message_id = by_key[f"campaign:{campaign.pk}:r:{recipient.pk}"]
        _recipients_mark_queued(queued, now)
        CampaignRecipient.objects.bulk_update(excluded, ["status", "reason"], batch_size=1000)
        Campaign.objects.filter(pk=campaign.pk).update(feed_cursor=cursor)
        # One wake-up per outbound shard (the drain of a shard takes all its contacts' heads).
        from messaging.outbound import outbound_shard

        by_shard = {outbound_shard(m.contact_id): m.contact_id for m in messages}
        for contact_id in by_shard.values():
            outbound_kick(contact_id)
    return len(messages)


def _recipients_mark_queued(recipients: list[CampaignRecipient], now: datetime) -> None:
    """Queued, with their message and window flag: one ``UPDATE … FROM (VALUES …)`` per 1,000 on
    PostgreSQL (Django's bulk_update writes a CASE per field and row, slow at this size)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        CampaignRecipient.objects.bulk_update(recipients, ["status", "queued_at", "in_window", "message"],
                                              batch_size=1000)
        return
    table = CampaignRecipient._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(recipients), 1000):
            chunk = recipients[start:start + 1000]
            values = ", ".join(["(%s::bigint, %s::bigint, %s::boolean)"] * len(chunk))
            params: list[Any] = [now]
            for recipient in chunk:
                params += [recipient.pk, recipient.message_id, recipient.in_window]
            cursor.execute(f"UPDATE {table} r SET status = 'queued', queued_at = %s, message_id = v.m, "
                           f"in_window = v.w FROM (VALUES {values}) AS v(id, m, w) WHERE r.id = v.id", params)


def _complete_if_done(campaign: Campaign, now: datetime) -> bool:
    """Running, planned, nobody pending, nothing of it still on its way: completed."""
    if not Campaign.objects.filter(pk=campaign.pk, planned=True).exists():
        return False
    if CampaignRecipient.objects.filter(campaign=campaign, status=CampaignRecipient.Status.PENDING).exists():
        return False
    if CampaignRecipient.objects.filter(campaign=campaign, message__status__in=Message.UNSETTLED).exists():
        return False
    Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(
        status=Campaign.Status.COMPLETED, finished_at=now)
    domain_event_emit(event_type="campaign.completed", data={"campaign_id": campaign.pk})
    return True


def campaigns_feed_due(*, now: datetime | None = None) -> int:
    """Periodic (beat): scheduled campaigns whose time came start; every running one gets a tick."""
    now = now or timezone.now()
    Campaign.objects.filter(status=Campaign.Status.SCHEDULED, scheduled_at__lte=now).update(
        status=Campaign.Status.RUNNING, started_at=now)
    fed = 0
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list("pk", flat=True):
        try:
            fed += campaign_feed(campaign_id=campaign_id, now=now)
        except Exception:  # noqa: BLE001 - one campaign's trouble must not stop the others
            logger.exception("campaign %s: feeding failed", campaign_id)
    return fed


# --- Quality ------------------------------------------------------------------------------------


def channel_quality_record(*, channel: Channel, quality: str = "", tier: str = "", event: str = "",
                           source: str = "webhook") -> int:
    """Record a channel's quality rating / messaging tier; a drop to low quality or a flagged number
    pauses its running campaigns, with an alert. Returns how many campaigns were paused."""
    from messaging.channel_cache import channels_forget
    from messaging.models import WhatsAppCloudChannel

    quality, tier, event = quality.upper(), tier.upper(), event.upper()
    fields: dict[str, Any] = {"quality_updated_at": timezone.now()}
    if quality:
        fields["quality_rating"] = quality
    if tier:
        fields["messaging_limit_tier"] = tier
    WhatsAppCloudChannel.objects.filter(pk=channel.pk).update(**fields)
    transaction.on_commit(channels_forget)
    dropped = quality in LOW_QUALITY or event == "FLAGGED"
    if not dropped:
        return 0
    paused = 0
    reason = _("quality of the number dropped (%(what)s, %(source)s): resume by hand when it recovers") % {
        "what": event or quality, "source": source}
    for campaign in Campaign.objects.filter(channel_id=channel.pk, status__in=(Campaign.Status.RUNNING,
                                                                                 Campaign.Status.SCHEDULED)):
        campaign_pause(campaign=campaign, reason=reason)
        paused += 1
    if paused:
        ChannelAlert.objects.create(channel=channel, code="quality", message=_(
            "%(n)s campaign(s) paused: %(reason)s") % {"n": paused, "reason": reason})
        logger.warning("channel %s: quality %s; %s campaigns paused", channel.pk, event or quality, paused)
    return paused


# --- Replies ------------------------------------------------------------------------------------


def campaign_reply_record(*, contact_id: int, at: datetime | None = None) -> tuple[int, int | None] | None:
    """The contact replied (a message or a button): mark its latest campaign recipient waiting for a
    reply (within the campaign's reply window) as replied. Returns ``(recipient id, flow id or None)``,
    or None when no campaign waited for this contact. One indexed UPDATE; called by the flows'
    event processor under the contact's lock."""
    at = at or timezone.now()
    recipient = (CampaignRecipient.objects.filter(contact_id=contact_id, status=CampaignRecipient.Status.QUEUED,
                                                  replied_at__isnull=True, message__isnull=False)
                 .select_related("campaign").order_by("-pk").first())
    if recipient is None or recipient.queued_at is None:
        return None
    if at - recipient.queued_at > timedelta(hours=recipient.campaign.reply_window_hours):
        return None
    if not CampaignRecipient.objects.filter(pk=recipient.pk, replied_at__isnull=True).update(replied_at=at):
        return None
    return recipient.pk, recipient.campaign.reply_flow_id


def campaign_reply_run_record(*, recipient_id: int, run_id: int | None) -> None:
    if run_id:
        CampaignRecipient.objects.filter(pk=recipient_id).update(run_id=run_id)




__all__ = ["CampaignRejected", "SegmentInvalid"]
