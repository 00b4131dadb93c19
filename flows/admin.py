"""Django admin for flows, revisions and runs: useful columns, filters, pretty read-only JSON."""

from __future__ import annotations

from django.contrib import admin

from core.admin import PrettyJSONMixin, ReadOnlyAdminMixin, ReadOnlyInline
from flows.models import Flow, FlowPublication, FlowRevision, FlowRun, RunStep, TestRun, UserPreference


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


class RunStepInline(ReadOnlyInline, admin.TabularInline):
    model = RunStep
    fields = ["seq", "node_id", "node_type", "outcome", "port", "error", "started_at", "duration_us"]
    readonly_fields = fields


@admin.register(FlowRun)
class FlowRunAdmin(ReadOnlyAdminMixin, PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("context",)
    list_display = ["id", "flow", "contact", "status", "current_node", "wait_kind", "wake_at", "step_count",
                    "is_test", "started_at"]
    list_filter = ["status", "wait_kind", "is_test", "flow"]
    search_fields = ["contact__phone", "contact__name", "flow__name", "end_reason"]
    raw_id_fields = ["contact", "conversation", "parent_run", "trigger_event", "revision"]
    readonly_fields = ["status", "current_node", "wait_token", "step_count", "end_reason", "started_at", "ended_at"]
    inlines = [RunStepInline]


@admin.register(RunStep)
class RunStepAdmin(ReadOnlyAdminMixin, PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("input", "output")
    list_display = ["run", "seq", "node_id", "node_type", "outcome", "port", "duration_us", "started_at"]
    list_filter = ["node_type", "outcome"]
    search_fields = ["node_id", "error"]
    raw_id_fields = ["run", "event"]


@admin.register(TestRun)
class TestRunAdmin(admin.ModelAdmin):
    list_display = ["id", "flow", "revision", "contact", "status", "created_by", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["contact", "run", "revision"]


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
