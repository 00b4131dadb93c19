"""Admin pages of runs monitoring (registered from FlowsConfig.ready, beside flows/admin.py).

Actions, roll-up state, counters, facts and alerts are records to inspect, so they are read-only;
the alert settings (thresholds and where alerts go) may be changed here too, as in the app.
"""

from __future__ import annotations

from django.contrib import admin

from core.admin import PrettyJSONMixin
from flows.models import (
    Alert,
    AlertSettings,
    ChannelHealth,
    MessageFact,
    RollupSeen,
    RollupState,
    RunAction,
    RunActionBatch,
    StatCounter,
    StatCounterDay,
    StatGauge,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RunActionAdmin(PrettyJSONMixin, ReadOnlyAdmin):
    json_fields = ("options",)
    list_display = ["id", "action", "run", "state", "requested_by", "requested_at", "applied_at"]
    list_filter = ["action", "state"]
    search_fields = ["run__id", "requested_by__username", "result"]
    raw_id_fields = ["run", "event", "new_run", "batch"]


class RunActionBatchAdmin(PrettyJSONMixin, ReadOnlyAdmin):
    json_fields = ("options", "filters")
    list_display = ["id", "action", "total", "recorded", "requested_by", "requested_at", "finished_at"]


class CounterAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "flow_id", "metric", "key", "value"]
    list_filter = ["metric"]
    search_fields = ["key"]


class GaugeAdmin(ReadOnlyAdmin):
    list_display = ["name", "flow_id", "key", "value", "measured_at"]


class RollupStateAdmin(PrettyJSONMixin, ReadOnlyAdmin):
    json_fields = ("gaps",)
    list_display = ["name", "watermark", "moment", "updated_at"]


class MessageFactAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "bucket", "flow_id", "template", "flags", "open"]
    list_filter = ["open"]


class RollupSeenAdmin(ReadOnlyAdmin):
    list_display = ["run_id", "ended_at"]


class AlertAdmin(PrettyJSONMixin, ReadOnlyAdmin):
    json_fields = ("params",)
    list_display = ["id", "kind", "key", "opened_at", "last_seen_at", "resolved_at", "notified_at"]
    list_filter = ["kind"]
    exclude = ["read_by"]


class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = ["flow", "failure_rate_enabled", "failure_rate_threshold", "failure_min_runs",
                    "timer_backlog_threshold", "graph_error_threshold", "notify_channel"]
    raw_id_fields = ["flow"]


class ChannelHealthAdmin(ReadOnlyAdmin):
    list_display = ["channel", "quality_rating", "messaging_limit_tier", "number_status", "checked_at", "error"]


ADMINS = [(RunAction, RunActionAdmin), (RunActionBatch, RunActionBatchAdmin), (StatCounter, CounterAdmin),
          (StatCounterDay, CounterAdmin), (StatGauge, GaugeAdmin), (RollupState, RollupStateAdmin),
          (MessageFact, MessageFactAdmin), (RollupSeen, RollupSeenAdmin), (Alert, AlertAdmin),
          (AlertSettings, AlertSettingsAdmin), (ChannelHealth, ChannelHealthAdmin)]


def register() -> None:
    for model, model_admin in ADMINS:
        if not admin.site.is_registered(model):
            admin.site.register(model, model_admin)
