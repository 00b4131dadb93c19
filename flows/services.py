"""Writes of the flows app: events in, flows and revisions, runs. Every function is atomic."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext
from jsonschema import Draft202012Validator

from core.i18n import run_language
from core.inbox import event_record  # noqa: F401  (flows records timer and schedule events; callers import it here)
from flows.engine.calendar import WEEKDAYS
from flows.engine.graph import compiled_revision
from flows.engine.interpreter import Interpreter
from flows.models import Flow, FlowPublication, FlowRevision, FlowRun, InboundEvent, UserPreference
from flows.spec import CURRENT_SPEC_VERSION, SpecVersionError, definition_schema, spec_migrate
from flows.validation import definition_validate
from messaging.models import Contact

logger = logging.getLogger(__name__)


# --- Processing events (flows.processing) ------------------------------------------------------
# contact_events_process, event_process, timers_sweep and timers_fire_due live in flows.processing;
# the names are kept here for callers of this module.
from flows.processing import contact_events_process, event_process, timers_fire_due, timers_sweep  # noqa: E402,F401


def events_requeue_stale(*, older_than_seconds: int = 20) -> int:
    """Queue again the contacts whose pending events have waited too long (lost task, dead worker)."""
    from flows.tasks import contact_events_process as task

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    contact_ids = list(InboundEvent.objects.filter(state=InboundEvent.State.PENDING, received_at__lt=cutoff,
                                                   contact__isnull=False)
                       .values_list("contact_id", flat=True).distinct()[:1000])
    for contact_id in contact_ids:
        task.delay(contact_id)
    return len(contact_ids)


def schedules_fire_due(*, now: datetime | None = None, window_minutes: int = 10) -> int:
    """Record a schedule event per tagged contact for each schedule trigger whose time has come today."""

    now = now or timezone.now()
    recorded = 0
    for flow in Flow.objects.filter(status=Flow.Status.ACTIVE, published_revision__isnull=False).select_related("published_revision"):
        compiled = compiled_revision(flow.published_revision)
        for node_id in compiled.trigger_ids:
            config = compiled.nodes[node_id].get("config") or {}
            schedule = config.get("schedule") or {}
            if config.get("event") != "schedule" or not schedule.get("time"):
                continue
            local = now.astimezone(ZoneInfo(schedule.get("timezone") or settings.TIME_ZONE))
            if schedule.get("weekdays") and WEEKDAYS[local.weekday()] not in schedule["weekdays"]:
                continue
            hours, minutes = (int(x) for x in schedule["time"].split(":"))
            due = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
            if not due <= local < due + timedelta(minutes=window_minutes):
                continue
            for contact in Contact.objects.filter(tags__name=schedule.get("tag"), is_test=False):
                _, created = event_record(
                    kind=InboundEvent.Kind.SCHEDULE,
                    dedupe_key=f"schedule:{flow.pk}:{node_id}:{local.date().isoformat()}:{contact.pk}",
                    contact=contact, payload={"flow_id": flow.pk, "node_id": node_id, "scheduled_for": due.isoformat()})
                recorded += int(created)
    return recorded


# --- Flows and revisions ----------------------------------------------------------------------


class StaleRevision(Exception):
    """The draft was saved by someone else since the editor loaded it."""

    def __init__(self, latest):
        super().__init__(f"revision {latest.revision} is newer than the one you edited")
        self.latest = latest


class InvalidFlow(Exception):
    def __init__(self, issues):
        super().__init__(f"{len(issues)} problem(s) in the flow")
        self.issues = issues


class InvalidDefinition(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def empty_definition() -> dict[str, Any]:

    return {"spec_version": CURRENT_SPEC_VERSION,
            "nodes": [{"id": "trigger", "type": "trigger", "config": {"event": "message", "match": "any"}}],
            "edges": [], "ui": {"nodes": {"trigger": {"position": {"x": 80, "y": 120}}}}}


def _checked_definition(definition: Any) -> dict[str, Any]:
    """Migrate to the current spec and check the shape (a draft may be semantically incomplete)."""

    if not isinstance(definition, dict):
        raise InvalidDefinition("the definition must be a JSON object")
    try:
        definition = spec_migrate(definition)
    except SpecVersionError as exc:
        raise InvalidDefinition(str(exc)) from exc
    error = next(iter(Draft202012Validator(definition_schema()).iter_errors(definition)), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "root"
        raise InvalidDefinition(f"invalid shape at '{where}': {error.message}")
    return definition


@transaction.atomic
def flow_create(*, name: str, description: str = "", definition: dict[str, Any] | None = None, author=None):

    definition = _checked_definition(definition) if definition is not None else empty_definition()
    flow = Flow.objects.create(name=name, description=description, created_by=author)
    FlowRevision.objects.create(flow=flow, revision=1, spec_version=definition["spec_version"],
                                definition=definition, author=author, comment="")
    return flow


@transaction.atomic
def flow_revision_save(*, flow, definition: dict[str, Any], base_revision: int | None, author=None, comment: str = ""):
    """Save a new draft revision, refusing when ``base_revision`` is not the latest (stale editor)."""

    Flow.objects.select_for_update().get(pk=flow.pk)  # serialize concurrent saves of one flow
    definition = _checked_definition(definition)
    latest = flow.revisions.order_by("-revision").first()
    latest_number = latest.revision if latest else 0
    if base_revision != latest_number and latest is not None:
        raise StaleRevision(latest)
    revision = FlowRevision.objects.create(flow=flow, revision=latest_number + 1,
                                           spec_version=definition["spec_version"], definition=definition,
                                           author=author, comment=comment[:500])
    Flow.objects.filter(pk=flow.pk).update(updated_at=timezone.now())
    return revision


def flow_revision_restore(*, flow, revision_number: int, base_revision: int | None, author=None):
    old = flow.revisions.get(revision=revision_number)
    return flow_revision_save(flow=flow, definition=old.definition, base_revision=base_revision, author=author,
                              comment=f"Restaurado da revisão {revision_number} / restored from revision {revision_number}")


@transaction.atomic
def flow_publish(*, flow, revision_number: int, comment: str = "", user=None):
    """Publish one revision after full validation; new events then start runs on it."""

    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    revision = flow.revisions.get(revision=revision_number)
    result = definition_validate(revision.definition)
    if not result.valid:
        raise InvalidFlow(result.issues)
    flow.published_revision = revision
    flow.published_at = timezone.now()
    if flow.status != Flow.Status.ARCHIVED:
        flow.status = Flow.Status.ACTIVE
    flow.save(update_fields=["published_revision", "published_at", "status", "updated_at"])
    FlowPublication.objects.create(flow=flow, revision=revision, published_by=user, comment=comment[:500])
    return flow


def flow_set_status(*, flow, status: str):

    if status == Flow.Status.ACTIVE and flow.published_revision_id is None:
        status = Flow.Status.DRAFT
    flow.status = status
    flow.save(update_fields=["status", "updated_at"])
    return flow


def flow_duplicate(*, flow, author=None):
    latest = flow.latest_revision
    return flow_create(name=f"{flow.name} (cópia)", description=flow.description,
                       definition=latest.definition if latest else None, author=author)


def flow_export(*, flow) -> dict[str, Any]:
    latest = flow.latest_revision
    return {"fluxo_export": 1, "name": flow.name, "description": flow.description,
            "definition": latest.definition if latest else empty_definition()}


def flow_import(*, document: dict[str, Any], author=None):
    if not isinstance(document, dict) or "definition" not in document:
        raise InvalidDefinition("not a Fluxo export: it has no 'definition'")
    name = str(document.get("name") or "Fluxo importado")[:200]
    return flow_create(name=name, description=str(document.get("description") or ""),
                       definition=document["definition"], author=author)


def user_language_set(*, user, language: str) -> None:

    UserPreference.objects.update_or_create(user=user, defaults={"language": language})


def runs_expire_stale(*, now: datetime | None = None, max_wait_days: float | None = None, limit: int = 500) -> int:
    """Expire runs that have waited for an answer (with no timeout) longer than the limit.

    Each run is expired under its contact's lock, so it never races an event of that contact.
    A subflow child that expires resumes its parent through the 'failed' port.
    """

    now = now or timezone.now()
    days = settings.FLUXO_RUN_MAX_WAIT_DAYS if max_wait_days is None else max_wait_days
    cutoff = now - timedelta(days=days)
    # Only waits for an answer: a subflow parent ends with its child, and a delay with no wake_at has
    # just fired (its timer event is queued).
    candidates = list(FlowRun.objects.filter(status=FlowRun.Status.WAITING, wait_kind=FlowRun.WaitKind.REPLY,
                                             wake_at__isnull=True,
                                             updated_at__lt=cutoff).values_list("pk", "contact_id")[:limit])
    expired = 0
    for run_id, contact_id in candidates:
        with transaction.atomic():
            Contact.objects.select_for_update().filter(pk=contact_id).first()
            run = (FlowRun.objects.select_related("revision", "flow", "contact")
                   .filter(pk=run_id, status=FlowRun.Status.WAITING, wait_kind=FlowRun.WaitKind.REPLY,
                           wake_at__isnull=True, updated_at__lt=cutoff).first())
            if run is None:
                continue
            with run_language():
                reason = ngettext("waited more than %(days)s day for an answer",
                                  "waited more than %(days)s days for an answer",
                                  1 if days == 1 else 2) % {"days": f"{days:g}"}
                Interpreter().run_finish(run, FlowRun.Status.EXPIRED, reason)
            expired += 1
    return expired
