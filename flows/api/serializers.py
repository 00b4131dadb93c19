"""Serializers of the flows API: parsing and shaping only."""

from __future__ import annotations

from rest_framework import serializers

from core.secrets import SecretsMaskedMixin
from flows.models import Flow, FlowRevision, FlowRun, RunStep, TestRun


class FlowSerializer(serializers.ModelSerializer):
    published_revision = serializers.IntegerField(source="published_revision.revision", read_only=True, default=None,
                                                  allow_null=True)
    latest_revision = serializers.SerializerMethodField()
    run_counts = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = ["id", "name", "description", "status", "published_revision", "published_at", "latest_revision",
                  "created_at", "updated_at", "run_counts"]
        read_only_fields = ["status", "published_at", "created_at", "updated_at"]

    def get_latest_revision(self, flow) -> int | None:
        latest = getattr(flow, "_latest_revision", None) or flow.latest_revision
        return latest.revision if latest else None

    def get_run_counts(self, flow) -> dict[str, int]:
        if hasattr(flow, "runs_total"):
            return {"active": flow.runs_active, "waiting": flow.runs_waiting, "completed": flow.runs_completed,
                    "failed": flow.runs_failed, "total": flow.runs_total}
        runs = flow.runs.filter(is_test=False)
        return {s: runs.filter(status=s).count() for s in ("active", "waiting", "completed", "failed")} | {
            "total": runs.count()}


class FlowCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    definition = serializers.JSONField(required=False)


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, default=None)
    author_id = serializers.IntegerField(read_only=True, default=None)
    is_published = serializers.SerializerMethodField()
    publications = serializers.SerializerMethodField()
    diff = serializers.SerializerMethodField()

    class Meta:
        model = FlowRevision
        fields = ["revision", "spec_version", "author", "author_id", "comment", "created_at", "updated_at", "saves",
                  "sealed", "session", "is_published", "publications", "diff"]

    def get_is_published(self, revision) -> bool:
        return revision.flow.published_revision_id == revision.pk

    def get_publications(self, revision) -> list[dict]:
        """Who published this revision, when, and the comment they wrote."""
        found = (self.context.get("publications") or {}).get(revision.pk)
        if found is None and "publications" not in self.context:
            found = list(revision.publications.select_related("published_by").order_by("-id"))
        return [{"comment": p.comment, "by": p.published_by.username if p.published_by else None,
                 "at": p.created_at.isoformat(), "warnings": len(p.warnings or [])} for p in found or []]

    def get_diff(self, revision) -> dict | None:
        """Counts of what changed since the previous revision (the list view fills it)."""
        return (self.context.get("diffs") or {}).get(revision.pk)


class RevisionDetailSerializer(RevisionSerializer):
    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "definition"]


class FlowDetailSerializer(FlowSerializer):
    draft = serializers.SerializerMethodField()

    class Meta(FlowSerializer.Meta):
        fields = [*FlowSerializer.Meta.fields, "draft"]

    def get_draft(self, flow) -> dict | None:
        latest = flow.latest_revision
        return RevisionDetailSerializer(latest).data if latest else None


class RevisionSaveSerializer(serializers.Serializer):
    definition = serializers.JSONField()
    base_revision = serializers.IntegerField(allow_null=True, min_value=0)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    # The editor's autosave: its tab's session key and the saves it has seen (see flows/drafts.py).
    session = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    base_saves = serializers.IntegerField(required=False, allow_null=True, min_value=0, default=None)
    checkpoint = serializers.BooleanField(required=False, default=False)


class RestoreSerializer(serializers.Serializer):
    base_revision = serializers.IntegerField(allow_null=True, min_value=0)


class ValidateSerializer(serializers.Serializer):
    definition = serializers.JSONField()


class PublishSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    accept_warnings = serializers.BooleanField(required=False, default=False)
    decisions = serializers.DictField(child=serializers.ChoiceField(choices=["allow", "replace"]), required=False,
                                      default=dict)


class ImportSerializer(serializers.Serializer):
    fluxo_export = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    definition = serializers.JSONField()


class RunStepSerializer(SecretsMaskedMixin, serializers.ModelSerializer):
    class Meta:
        model = RunStep
        fields = ["seq", "node_id", "node_type", "port", "outcome", "input", "output", "error", "started_at",
                  "duration_us"]


class RunSerializer(SecretsMaskedMixin, serializers.ModelSerializer):
    contact = serializers.CharField(source="contact.phone", read_only=True)
    revision = serializers.IntegerField(source="revision.revision", read_only=True)

    class Meta:
        model = FlowRun
        fields = ["id", "flow", "revision", "contact", "status", "current_node", "wait_kind", "wake_at",
                  "is_test", "step_count", "end_reason", "started_at", "updated_at", "ended_at"]


class RunDetailSerializer(RunSerializer):
    steps = RunStepSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "context", "steps"]


class TestContactSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    attributes = serializers.DictField(required=False, default=dict)
    opted_in = serializers.BooleanField(required=False, default=False)


class TestContactUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    attributes = serializers.DictField(required=False)
    opted_in = serializers.BooleanField(required=False)


def test_contact_as_dict(contact) -> dict:
    return {"id": contact.pk, "phone": contact.phone, "name": contact.name, "attributes": contact.attributes or {},
            "opted_in": contact.consent_state("marketing") == "opted_in"}


class TestRunStartSerializer(serializers.Serializer):
    revision = serializers.IntegerField(required=False, min_value=1)
    # An object (it becomes {{trigger.*}}), or null for no trigger payload; a string or a list is a 400.
    payload = serializers.DictField(required=False, allow_null=True)
    contact_id = serializers.IntegerField(required=False, min_value=1)
    contact = TestContactSerializer(required=False)


class TestRunInboundFileSerializer(serializers.Serializer):
    file = serializers.FileField()
    caption = serializers.CharField(required=False, allow_blank=True, max_length=1024, default="")


class TestRunInboundSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=False, max_length=4096)
    reply_id = serializers.CharField(required=False, max_length=256)
    reply_title = serializers.CharField(required=False, allow_blank=True, max_length=256, default="")
    reply_kind = serializers.ChoiceField(choices=["button", "list", "quick_reply"], required=False, default="button")

    def validate(self, attrs):
        if not attrs.get("text") and not attrs.get("reply_id"):
            raise serializers.ValidationError({"text": ["Send a text or a reply_id."]})
        return attrs


class TestRunSerializer(serializers.ModelSerializer):
    revision = serializers.IntegerField(source="revision.revision", read_only=True)
    contact = serializers.SerializerMethodField()
    ws_url = serializers.SerializerMethodField()

    class Meta:
        model = TestRun
        fields = ["id", "flow", "revision", "status", "contact", "ws_url", "created_at"]

    def get_contact(self, test) -> dict:
        return test_contact_as_dict(test.contact)

    def get_ws_url(self, test) -> str:
        return f"/ws/test-runs/{test.pk}/"
