"""Django admin for flows, revisions, runs and events: useful columns, filters, pretty read-only JSON."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from flows.models import Flow, FlowPublication, FlowRevision, FlowRun, InboundEvent, RunStep, TestRun, UserPreference


def pretty_json(value) -> str:
    return format_html('<pre style="white-space:pre-wrap;max-width:900px">{}</pre>',
                       json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


class PrettyJSONMixin:
    """Shows every JSONField of the model read-only and indented."""

    json_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(f"{name}_pretty" for name in self.json_fields)]

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), *self.json_fields]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls.json_fields:
            def show(self, obj, _name=name):
                return pretty_json(getattr(obj, _name))

            show.short_description = name
            setattr(cls, f"{name}_pretty", show)


class RevisionInline(admin.TabularInline):
    model = FlowRevision
    fields = ["revision", "spec_version", "author", "comment", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "published_revision", "published_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["name", "description"]
    readonly_fields = ["published_revision", "published_at", "created_at", "updated_at"]
    inlines = [RevisionInline]


@admin.register(FlowRevision)
class FlowRevisionAdmin(PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("definition",)
    list_display = ["flow", "revision", "spec_version", "author", "comment", "created_at"]
    list_filter = ["spec_version", "flow"]
    search_fields = ["flow__name", "comment"]
    readonly_fields = ["flow", "revision", "spec_version", "author", "comment", "created_at"]

    def has_change_permission(self, request, obj=None):
        return obj is None  # revisions are immutable


@admin.register(FlowPublication)
class FlowPublicationAdmin(admin.ModelAdmin):
    list_display = ["flow", "revision", "published_by", "comment", "created_at"]
    list_filter = ["flow"]
    readonly_fields = ["flow", "revision", "published_by", "comment", "created_at"]


class RunStepInline(admin.TabularInline):
    model = RunStep
    fields = ["seq", "node_id", "node_type", "outcome", "port", "error", "started_at", "duration_us"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(FlowRun)
class FlowRunAdmin(PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("context",)
    list_display = ["id", "flow", "contact", "status", "current_node", "wait_kind", "wake_at", "step_count",
                    "is_test", "started_at"]
    list_filter = ["status", "wait_kind", "is_test", "flow"]
    search_fields = ["contact__phone", "contact__name", "flow__name", "end_reason"]
    raw_id_fields = ["contact", "conversation", "parent_run", "trigger_event", "revision"]
    readonly_fields = ["status", "current_node", "wait_token", "step_count", "end_reason", "started_at", "ended_at"]
    inlines = [RunStepInline]


@admin.register(RunStep)
class RunStepAdmin(PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("input", "output")
    list_display = ["run", "seq", "node_id", "node_type", "outcome", "port", "duration_us", "started_at"]
    list_filter = ["node_type", "outcome"]
    search_fields = ["node_id", "error"]
    raw_id_fields = ["run", "event"]


@admin.action(description="Process again (back to pending)")
def reprocess_events(modeladmin, request, queryset):
    from flows.tasks import enqueue_contact_processing

    for event in queryset.exclude(contact__isnull=True):
        InboundEvent.objects.filter(pk=event.pk).update(state=InboundEvent.State.PENDING, error="")
        enqueue_contact_processing(event.contact_id)


@admin.register(InboundEvent)
class InboundEventAdmin(PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("payload", "raw")
    list_display = ["id", "kind", "contact", "state", "attempts", "received_at", "processed_at"]
    list_filter = ["kind", "state"]
    search_fields = ["dedupe_key", "contact__phone", "error"]
    raw_id_fields = ["contact", "channel"]
    readonly_fields = ["dedupe_key", "kind", "state", "attempts", "error", "received_at", "processed_at", "occurred_at"]
    actions = [reprocess_events]


@admin.register(TestRun)
class TestRunAdmin(admin.ModelAdmin):
    list_display = ["id", "flow", "revision", "contact", "status", "created_by", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["contact", "run", "revision"]


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
