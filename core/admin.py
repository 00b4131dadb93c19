"""Admin building blocks shared by every app, and the admin of the inbox (events)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import inbox
from core.models import InboundEvent
from core.secrets import secrets_mask


def pretty_json(value) -> str:
    """A JSON value for an admin page, indented, with vault secrets masked (the second line of defence)."""
    return format_html('<pre style="white-space:pre-wrap;max-width:900px">{}</pre>',
                       json.dumps(secrets_mask(value), indent=2, ensure_ascii=False, sort_keys=True))


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

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        # The column and label read the field's own (translated) name.
        for name in self.json_fields:
            getattr(type(self), f"{name}_pretty").short_description = model._meta.get_field(name).verbose_name


class ReadOnlyAdminMixin:
    """Records written by the engine (runs, steps, events, messages, webhook deliveries): the
    admin inspects and searches them and runs their actions (reprocess, redeliver), but never
    edits, adds or deletes them: a hand-edited run or message would lie about what happened."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin):
    """An inline that lists related rows: no empty forms, no "add another"."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.action(description=_("Process again (back to pending)"))
def reprocess_events(modeladmin, request, queryset):
    for event in queryset.exclude(contact__isnull=True):
        inbox.event_reprocess(event=event)


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdminMixin, PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("payload", "raw")
    list_display = ["id", "kind", "contact", "state", "attempts", "received_at", "processed_at"]
    list_filter = ["kind", "state"]
    search_fields = ["dedupe_key", "contact__phone", "error"]
    raw_id_fields = ["contact", "channel"]
    readonly_fields = ["dedupe_key", "kind", "state", "attempts", "error", "received_at", "processed_at", "occurred_at"]
    actions = [reprocess_events]
