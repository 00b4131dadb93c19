"""Publishing with the WhatsApp policy check: errors refuse, warnings and same-event conflicts
must be confirmed (with "keep both" or "replace the other" for each conflicting flow)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from flows import services
from flows.drafts import revision_seal
from flows.models import Flow, FlowPublication
from flows.policy import policy_check
from flows.validation import ValidationResult, definition_validate


class NeedsConfirmation(Exception):
    """Publishing would go ahead only with the publisher's say-so on these warnings/conflicts."""

    def __init__(self, warnings: list, conflicts: list[dict[str, Any]]):
        super().__init__(f"{len(warnings)} warning(s) to confirm")
        self.warnings = warnings
        self.conflicts = conflicts


def flow_check(*, flow: Flow | None, definition: Any) -> tuple[ValidationResult, list[dict[str, Any]]]:
    """Validation plus the policy check of a definition, as the editor and publishing see it."""
    result = definition_validate(definition)
    if not any(i.code in ("not_an_object", "spec_version", "definition_shape") for i in result.issues):
        policy, conflicts = policy_check(definition, flow=flow)
        result.issues.extend(policy)
    else:
        conflicts = []
    return result, conflicts


@transaction.atomic
def flow_publish_checked(*, flow: Flow, revision_number: int, comment: str = "", user=None,
                         accept_warnings: bool = False, decisions: dict[str, str] | None = None) -> Flow:
    """Publish a revision after validation and the policy check.

    Raises :class:`flows.services.InvalidFlow` on errors and :class:`NeedsConfirmation` when
    warnings are not accepted or a conflicting flow has no decision. ``decisions`` maps another
    flow's id to ``allow`` (both keep running) or ``replace`` (the other one is archived).
    """
    decisions = {str(k): v for k, v in (decisions or {}).items()}
    revision = flow.revisions.get(revision=revision_number)
    result, conflicts = flow_check(flow=flow, definition=revision.definition)
    if result.errors:
        raise services.InvalidFlow(result.errors)
    undecided = [c for c in conflicts if decisions.get(str(c["flow_id"])) not in ("allow", "replace")]
    if (result.warnings and not accept_warnings) or undecided:
        raise NeedsConfirmation(result.warnings, conflicts)
    revision_seal(revision=revision)
    published = services.flow_publish(flow=flow, revision_number=revision_number, comment=comment, user=user)
    replaced = []
    for conflict in conflicts:
        if decisions.get(str(conflict["flow_id"])) == "replace":
            other = Flow.objects.filter(pk=conflict["flow_id"]).first()
            if other is not None and other.status == Flow.Status.ACTIVE:
                services.flow_set_status(flow=other, status=Flow.Status.ARCHIVED)
                replaced.append(other.pk)
    publication = FlowPublication.objects.filter(flow=flow, revision=revision).order_by("-id").first()
    if publication is not None:
        publication.warnings = [{"code": w.code, "node_id": w.node_id, "message": w.message} for w in result.warnings]
        publication.decisions = {str(c["flow_id"]): decisions[str(c["flow_id"])] for c in conflicts}
        publication.save(update_fields=["warnings", "decisions"])
    return published
