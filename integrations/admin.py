"""Admin for the integrations: secrets are never shown (masked), JSON is pretty and read-only,
and open alerts (e.g. a webhook disabled after repeated failures) are listed first."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from integrations import models
from integrations.webhooks import services as webhooks


def pretty(value) -> str:
    return format_html("<pre style='white-space:pre-wrap;max-width:900px'>{}</pre>",
                       json.dumps(value, ensure_ascii=False, indent=2, default=str))


class CredentialForm(forms.ModelForm):
    secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                             help_text=_("Leave empty to keep the stored secret. It is never shown again."))

    class Meta:
        model = models.Credential
        fields = ["name", "kind", "secret", "username", "header_name", "query_param", "base_url", "allowed_hosts",
                  "description"]

    def clean_secret(self):
        value = self.cleaned_data.get("secret")
        if not value and self.instance.pk:
            return self.instance.secret
        if not value:
            raise forms.ValidationError(_("A new credential needs its secret."))
        return value


@admin.register(models.Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = ["name", "kind", "secret_masked", "base_url", "last_used_at", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description", "base_url"]
    readonly_fields = ["secret_masked", "last_used_at", "created_at", "updated_at"]


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "timezone", "notify_email"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(models.ApiIntegration)
class ApiIntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "is_active", "last_used_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["key_prefix", "key_hash", "last_used_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are created through the API, which shows the key once


class KnowledgeInline(admin.TabularInline):
    model = models.KnowledgeEntry
    extra = 1


@admin.register(models.Assistant)
class AssistantAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "model", "credential", "confidence_threshold", "updated_at"]
    list_filter = ["provider"]
    search_fields = ["name", "instructions"]
    inlines = [KnowledgeInline]


@admin.register(models.KnowledgeEntry)
class KnowledgeEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "assistant", "is_active"]
    list_filter = ["assistant", "is_active"]
    search_fields = ["question", "answer", "keywords"]


@admin.register(models.AssistantMemory)
class AssistantMemoryAdmin(admin.ModelAdmin):
    list_display = ["assistant", "contact", "updated_at"]
    list_filter = ["assistant"]
    search_fields = ["contact__phone", "contact__name"]
    readonly_fields = ["assistant", "contact", "turns_pretty", "updated_at"]
    exclude = ["turns"]

    @admin.display(description=_("turns"))
    def turns_pretty(self, obj):
        return pretty(obj.turns)


@admin.register(models.WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "consecutive_failures", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["consecutive_failures", "disabled_at", "disabled_reason", "created_at"]
    exclude = ["secret"]
    actions = ["enable"]

    def changelist_view(self, request, extra_context=None):
        open_alerts = models.IntegrationAlert.objects.filter(resolved_at__isnull=True).count()
        if open_alerts:
            self.message_user(request, gettext("%(n)d open integration alert(s): see Integrations › Integration "
                                               "alerts.") % {"n": open_alerts}, messages.ERROR)
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Enable again (and close its alerts)"))
    def enable(self, request, queryset):
        for subscription in queryset:
            webhooks.webhook_subscription_enable(subscription=subscription)
        self.message_user(request, gettext("%(n)d subscription(s) enabled.") % {"n": queryset.count()})

    def save_model(self, request, obj, form, change):
        if not change:
            subscription, secret = webhooks.webhook_subscription_create(
                name=obj.name, url=obj.url, event_types=obj.event_types)
            obj.pk = subscription.pk
            self.message_user(request, gettext("Signing secret (shown only now): %(secret)s") % {"secret": secret}, messages.WARNING)
        else:
            super().save_model(request, obj, form, change)


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "subscription", "event_type", "status", "attempts", "last_status_code", "next_attempt_at",
                    "created_at"]
    list_filter = ["status", "event_type", "subscription"]
    search_fields = ["event_id", "last_error"]
    readonly_fields = ["subscription", "event_id", "event_type", "payload_pretty", "status", "attempts",
                       "next_attempt_at", "last_status_code", "last_response", "last_error", "attempt_log_pretty",
                       "redelivery_of", "created_at", "delivered_at"]
    exclude = ["payload", "attempt_log"]
    actions = ["redeliver"]

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj):
        return pretty(obj.payload)

    @admin.display(description=_("attempt log"))
    def attempt_log_pretty(self, obj):
        return pretty(obj.attempt_log)

    @admin.action(description=_("Redeliver"))
    def redeliver(self, request, queryset):
        for delivery in queryset:
            webhooks.webhook_delivery_redeliver(delivery=delivery)
        self.message_user(request, gettext("%(n)d delivery(ies) queued again.") % {"n": queryset.count()})



@admin.register(models.IntegrationAlert)
class IntegrationAlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "message", "subscription", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["message"]
    readonly_fields = ["kind", "message", "subscription", "created_at"]
    actions = ["resolve"]

    def get_queryset(self, request):
        # Open alerts first: that is what an operator must act on.
        from django.db.models import F

        return super().get_queryset(request).order_by(F("resolved_at").desc(nulls_first=True), "-id")

    @admin.action(description=_("Mark resolved"))
    def resolve(self, request, queryset):
        from django.utils import timezone

        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
