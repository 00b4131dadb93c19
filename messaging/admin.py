"""Django admin of the messaging app. Secrets are write-only (masked, never rendered back)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from polymorphic.admin import PolymorphicChildModelAdmin, PolymorphicChildModelFilter, PolymorphicParentModelAdmin

from core.admin import PrettyJSONMixin, ReadOnlyAdminMixin, ReadOnlyInline
from core.crypto import mask
from messaging.models import (
    Campaign,
    CampaignRecipient,
    Channel,
    ChannelAlert,
    ConsentEvent,
    Contact,
    ContactImport,
    Conversation,
    DateEvent,
    DateEventFire,
    MediaFile,
    Message,
    MessageTemplate,
    SandboxChannel,
    Segment,
    Tag,
    WebhookDelivery,
    WhatsAppCloudChannel,
)

SECRETS = ("access_token", "app_secret", "verify_token")


def _alert_badge(channel: Channel) -> str:
    if channel.paused_at:
        return format_html('<strong style="color:#b3261e">⚠ {}: {}</strong>', gettext("paused"), channel.pause_reason[:120])
    return gettext("ok")


@admin.action(description=_("Resume (unpause) the selected channels and send what waited"))
def resume_channels(modeladmin, request, queryset):
    from messaging.services import channel_resume

    total = sum(channel_resume(channel=channel) for channel in queryset)
    modeladmin.message_user(request, gettext("Resumed; %(n)d queued message(s) sent again.") % {"n": total}, messages.SUCCESS)


@admin.action(description=_("Sync templates from Meta now"))
def sync_templates(modeladmin, request, queryset):
    from messaging.providers.base import ProviderError
    from messaging.services import templates_sync

    for channel in queryset:
        channel = Channel.objects.get(pk=channel.pk)
        if channel.provider_key != "whatsapp_cloud":
            continue
        try:
            counts = templates_sync(channel=channel)
            modeladmin.message_user(request, f"{channel}: {counts}", messages.SUCCESS)
        except ProviderError as exc:
            modeladmin.message_user(request, f"{channel}: {exc.message}", messages.ERROR)


class CloudChannelForm(forms.ModelForm):
    """Secrets are typed in, never shown: a blank field keeps the stored value."""

    access_token = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                   help_text=_("Leave blank to keep the current token."))
    app_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                 help_text=_("Leave blank to keep the current app secret."))
    verify_token = forms.CharField(required=False, max_length=128, widget=forms.PasswordInput(render_value=False),
                                   help_text=_("Leave blank to keep the current verify token."))

    class Meta:
        model = WhatsAppCloudChannel
        fields = ["name", "is_active", "phone_number_id", "waba_id", "display_phone_number", "access_token",
                  "app_secret", "verify_token", "graph_api_base_url", "graph_api_version", "messages_per_second"]

    def clean(self):
        data = super().clean()
        for name in SECRETS:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


class AlertInline(ReadOnlyInline, admin.TabularInline):
    model = ChannelAlert
    fields = ["created_at", "code", "message", "resolved_at"]
    readonly_fields = fields
    show_change_link = False


class ChannelChildAdmin(PolymorphicChildModelAdmin):
    base_model = Channel
    inlines = [AlertInline]
    actions = [resume_channels, sync_templates]


@admin.register(SandboxChannel)
class SandboxChannelAdmin(ChannelChildAdmin):
    base_model = Channel
    readonly_fields = ["paused_at", "pause_reason", "created_at"]


@admin.register(WhatsAppCloudChannel)
class WhatsAppCloudChannelAdmin(ChannelChildAdmin):
    base_model = Channel
    base_form = CloudChannelForm
    form = CloudChannelForm
    readonly_fields = ["secrets_status", "paused_at", "pause_reason", "created_at"]
    list_display = ["name", "phone_number_id", "waba_id", "display_phone_number", "status_badge"]
    search_fields = ["name", "phone_number_id", "waba_id", "display_phone_number"]

    @admin.display(description=_("Stored secrets"))
    def secrets_status(self, obj):
        if obj is None or not obj.pk:
            return "-"
        return format_html("{}: {} · {}: {} · {}: {}", gettext("access token"),
                           mask(obj.access_token) or gettext("not set"), gettext("app secret"),
                           mask(obj.app_secret) or gettext("not set"), gettext("verify token"),
                           mask(obj.verify_token) or gettext("not set"))

    @admin.display(description=_("Status"))
    def status_badge(self, obj):
        return _alert_badge(obj)


@admin.register(Channel)
class ChannelParentAdmin(PolymorphicParentModelAdmin):
    base_model = Channel
    child_models = (SandboxChannel, WhatsAppCloudChannel)
    list_display = ["name", "kind", "is_active", "status_badge", "open_alerts", "created_at"]
    list_filter = [PolymorphicChildModelFilter, "is_active"]
    search_fields = ["name"]
    actions = [resume_channels, sync_templates]

    @admin.display(description=_("Status"))
    def status_badge(self, obj):
        return _alert_badge(obj)

    @admin.display(description=_("Open alerts"))
    def open_alerts(self, obj):
        return obj.alerts.filter(resolved_at__isnull=True).count()


@admin.register(ChannelAlert)
class ChannelAlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "code", "message", "resolved_at"]
    list_filter = ["code", "resolved_at"]
    search_fields = ["message", "channel__name"]
    readonly_fields = ["channel", "code", "message", "created_at"]
    actions = ["resolve"]

    @admin.action(description=_("Mark as resolved"))
    def resolve(self, request, queryset):
        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ConsentEventInline(ReadOnlyInline, admin.TabularInline):
    model = ConsentEvent
    fields = ["at", "category", "state", "source", "note", "actor", "message", "contact_import"]
    readonly_fields = fields
    show_change_link = False


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The consent history is evidence (LGPD): read-only, written only by contact_consent_set."""

    list_display = ["at", "contact", "category", "state", "source", "actor"]
    list_filter = ["category", "state"]
    search_fields = ["contact__phone", "contact__name", "source", "note"]


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "filename", "status", "row_count", "created", "updated", "skipped", "created_by",
                    "created_at"]
    list_filter = ["status"]
    search_fields = ["filename", "error"]
    exclude = ["content"]


@admin.register(Contact)
class ContactAdmin(PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("attributes", "consent")
    list_display = ["phone", "name", "channel", "marketing_consent", "last_inbound_at", "is_test", "created_at"]
    list_filter = ["channel", "is_test", "last_inbound_at"]
    search_fields = ["phone", "name"]
    filter_horizontal = ["tags"]
    readonly_fields = ["last_inbound_at", "created_at", "updated_at"]
    inlines = [ConsentEventInline]

    @admin.display(description=_("Marketing"))
    def marketing_consent(self, obj):
        return obj.consent_state("marketing")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "contact", "channel", "state", "assigned_team", "last_inbound_at", "opened_at"]
    list_filter = ["state", "channel", "assigned_team"]
    search_fields = ["contact__phone", "contact__name"]
    raw_id_fields = ["contact"]
    readonly_fields = ["opened_at"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("content",)
    list_display = ["id", "created_at", "direction", "kind", "contact", "channel", "status", "error_code", "attempts"]
    list_filter = ["direction", "status", "kind", "channel", "possible_duplicate"]
    search_fields = ["contact__phone", "contact__name", "provider_message_id", "idempotency_key"]
    raw_id_fields = ["contact", "conversation", "run"]
    readonly_fields = ["provider_message_id", "idempotency_key", "status", "error_code", "error", "attempts",
                       "possible_duplicate", "next_attempt_at", "created_at", "sent_at", "delivered_at", "read_at"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("components",)
    list_display = ["name", "language", "category", "status", "parameter_count", "channel", "synced_at"]
    list_filter = ["status", "category", "language", "channel"]
    search_fields = ["name"]
    readonly_fields = ["body_text", "synced_at"]
    actions = ["sync_from_meta"]

    @admin.action(description=_("Sync the templates of these templates' channels from Meta"))
    def sync_from_meta(self, request, queryset):
        channels = Channel.objects.filter(pk__in=queryset.values_list("channel_id", flat=True))
        sync_templates(self, request, channels)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "received_at", "source", "channel", "state", "attempts", "short_summary"]
    list_filter = ["state", "source", "channel"]
    search_fields = ["body", "error"]
    readonly_fields = ["source", "channel", "state", "error", "attempts", "received_at", "processed_at",
                       "signature", "body_pretty", "summary_pretty"]
    exclude = ["body", "summary"]
    actions = ["reprocess"]

    @admin.display(description=_("Summary"))
    def short_summary(self, obj):
        return ", ".join(f"{k}={v}" for k, v in sorted((obj.summary or {}).items()))[:120]

    @admin.display(description=_("Body"))
    def body_pretty(self, obj):
        import json

        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html('<pre style="white-space:pre-wrap;max-width:900px">{}</pre>', text)

    @admin.display(description=_("Summary"))
    def summary_pretty(self, obj):
        from core.admin import pretty_json

        return pretty_json(obj.summary)

    @admin.action(description=_("Process again (after fixing the channel)"))
    def reprocess(self, request, queryset):
        from django.db import transaction

        from messaging.tasks import inbound_delivery_process

        ids = list(queryset.values_list("pk", flat=True))
        queryset.update(state=WebhookDelivery.State.PENDING, error="", attempts=0)
        transaction.on_commit(lambda: [inbound_delivery_process.delay(pk, None) for pk in ids])


@admin.register(MediaFile)
class MediaFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Received files and the media library: metadata and why a download failed (read only)."""

    list_display = ["id", "created_at", "direction", "kind", "name", "filename", "mime_type", "size", "status"]
    list_filter = ["direction", "kind", "status"]
    search_fields = ["name", "filename", "provider_media_id", "error"]
    readonly_fields = ["direction", "kind", "channel", "message", "provider_media_id", "name", "filename", "mime_type",
                       "size", "sha256", "caption", "file", "status", "error", "attempts", "created_at", "stored_at",
                       "expires_at"]


# --- Campaigns (managed in the app's pages; the admin shows them) ------------------------------


@admin.register(Segment)
class SegmentAdmin(PrettyJSONMixin, admin.ModelAdmin):
    json_fields = ("definition",)
    list_display = ("name", "updated_at")
    search_fields = ("name",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "channel", "template", "scheduled_at", "started_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("name",)
    readonly_fields = ("status", "pause_reason", "plan_cursor", "planned", "feed_cursor", "test_sent_at",
                       "started_at", "finished_at")


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("campaign", "contact", "status", "reason", "queued_at", "replied_at")
    list_filter = ("status", "reason")
    raw_id_fields = ("campaign", "contact", "message")


@admin.register(DateEvent)
class DateEventAdmin(admin.ModelAdmin):
    list_display = ("name", "attribute", "offset", "unit", "time_of_day", "flow_id", "is_active")


@admin.register(DateEventFire)
class DateEventFireAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event", "contact", "value", "fire_at", "state", "fired_at")
    list_filter = ("state",)
    raw_id_fields = ("event", "contact")
