"""The editor's autosaves: one revision per editing session, sealed at the moments that matter.

A browser tab is an editing session (a random ``session`` key). Its autosaves update the
session's unsealed revision in place instead of adding one revision per pause in typing; the
revision is sealed (immutable) when it is published, test-run, restored from, saved explicitly
("checkpoint", with a comment), idle for ``SESSION_IDLE``, or when another session or person
saves after it. Conflicts are still refused: a save names the revision *and* the number of
saves it started from, so a tab that missed another tab's save gets a 409, never an overwrite.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flows.models import Flow, FlowRevision
from flows.services import StaleRevision, _checked_definition

SESSION_IDLE = timedelta(minutes=30)


def revision_seal(*, revision: FlowRevision) -> FlowRevision:
    """Make a revision immutable (idempotent)."""
    if not revision.sealed:
        FlowRevision.objects.filter(pk=revision.pk).update(sealed=True)
        revision.sealed = True
    return revision


@transaction.atomic
def revision_autosave(*, flow: Flow, definition: dict[str, Any], base_revision: int | None, base_saves: int | None,
                      session: str, author=None, comment: str = "", checkpoint: bool = False) -> FlowRevision:
    """Save the editor's content for one session; returns the revision now holding it.

    Preconditions: ``base_revision``/``base_saves`` are what this session last saw (None/None
    for a flow it loaded empty). A ``checkpoint`` (restore, explicit save) seals the result; when
    it brings other content than the session's revision, that one is sealed as it was and the
    checkpoint is a new revision. Raises :class:`flows.services.StaleRevision` when someone —
    another person or another tab — saved since, and InvalidDefinition on a malformed definition.
    """
    Flow.objects.select_for_update().get(pk=flow.pk)
    definition = _checked_definition(definition)
    latest = flow.revisions.order_by("-revision").first()
    if latest is not None and (base_revision != latest.revision
                               or (base_saves is not None and base_saves != latest.saves)):
        raise StaleRevision(latest)
    now = timezone.now()
    same_session = (latest is not None and not latest.sealed and latest.session == session and session
                    and latest.author_id == getattr(author, "pk", None)
                    and now - (latest.updated_at or latest.created_at) < SESSION_IDLE)
    if same_session and checkpoint and latest.definition != definition:
        # A restore or an explicit save after edits: the session's edits stay a revision of their
        # own, and this content becomes the next one.
        same_session = False
    if same_session:
        changes: dict[str, Any] = {"definition": definition, "spec_version": definition["spec_version"],
                                   "saves": F("saves") + 1, "updated_at": now, "sealed": checkpoint}
        if comment:
            changes["comment"] = comment[:500]
        FlowRevision.objects.filter(pk=latest.pk).update(**changes)
        Flow.objects.filter(pk=flow.pk).update(updated_at=now)
        return FlowRevision.objects.select_related("author", "flow").get(pk=latest.pk)
    if latest is not None:
        revision_seal(revision=latest)
    revision = FlowRevision.objects.create(
        flow=flow, revision=(latest.revision if latest else 0) + 1, spec_version=definition["spec_version"],
        definition=definition, author=author, comment=comment[:500], session=session[:64], saves=1,
        sealed=checkpoint, updated_at=now)
    Flow.objects.filter(pk=flow.pk).update(updated_at=now)
    return revision
