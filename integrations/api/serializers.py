"""Serializers of the integrations API: shapes only; writes go through the services.

Secrets are write-only: a credential answers ``secret_masked``; a webhook signing secret and an
API key appear once, in the answer to the request that created them.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from core.secrets import SecretsMaskedMixin
from integrations.models import (
    WEBHOOK_EVENT_TYPES,
    ApiIntegration,
    Assistant,
    Credential,
    KnowledgeEntry,
    Team,
    WebhookDelivery,
    WebhookSubscription,
    validate_business_hours,
)


class EventContactSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EventInSerializer(serializers.Serializer):
    event = serializers.CharField(max_length=120, help_text="Event name, e.g. order.created")
    contact = EventContactSerializer()
    data = serializers.DictField(required=False, default=dict, help_text="Becomes {{trigger.*}} in the flow.")
    channel = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="Channel id to reach the contact on (default: the main channel).")


class EventAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    duplicate = serializers.BooleanField()


class EventStatusSerializer(SecretsMaskedMixin, serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    state = serializers.CharField(help_text="pending, done, failed or ignored")
    error = serializers.CharField()
    received_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    runs = serializers.ListField(child=serializers.DictField(), help_text="Runs the event started.")


class CredentialSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                   style={"input_type": "password"}, trim_whitespace=False)
    secret_masked = serializers.CharField(read_only=True)

    class Meta:
        model = Credential
        fields = ["id", "name", "kind", "secret", "secret_masked", "username", "header_name", "query_param",
                  "base_url", "allowed_hosts", "description", "last_used_at", "created_at", "updated_at"]
        read_only_fields = ["last_used_at", "created_at", "updated_at"]
        # A new credential names its kind: a silent "bearer" sends the secret the wrong way.
        extra_kwargs = {"kind": {"required": True}}

    def validate(self, attrs):
        if self.instance is None and not attrs.get("secret"):
            raise serializers.ValidationError({"secret": ["A new credential needs its secret."]})
        return attrs


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=[*WEBHOOK_EVENT_TYPES, "*"]),
                                        allow_empty=False)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "event_types", "is_active", "consecutive_failures", "disabled_at",
                  "disabled_reason", "created_at"]
        read_only_fields = ["is_active", "consecutive_failures", "disabled_at", "disabled_reason", "created_at"]


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signing secret: shown only now.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(SecretsMaskedMixin, serializers.ModelSerializer):
    subscription = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "event_id", "event_type", "payload", "status", "attempts", "next_attempt_at",
                  "last_status_code", "last_response", "last_error", "attempt_log", "redelivery_of", "created_at",
                  "delivered_at"]
        read_only_fields = fields


class ApiIntegrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiIntegration
        fields = ["id", "name", "key_prefix", "is_active", "last_used_at", "created_at"]
        read_only_fields = ["key_prefix", "last_used_at", "created_at"]


class ApiIntegrationCreatedSerializer(ApiIntegrationSerializer):
    api_key = serializers.CharField(read_only=True, help_text="The API key: shown only now.")

    class Meta(ApiIntegrationSerializer.Meta):
        fields = [*ApiIntegrationSerializer.Meta.fields, "api_key"]


class KnowledgeEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = KnowledgeEntry
        fields = ["id", "question", "answer", "keywords", "is_active"]


class AssistantSerializer(serializers.ModelSerializer):
    credential = serializers.SlugRelatedField(slug_field="name", queryset=Credential.objects.all(),
                                              required=False, allow_null=True)
    knowledge = KnowledgeEntrySerializer(many=True, read_only=True)

    class Meta:
        model = Assistant
        fields = ["id", "name", "instructions", "provider", "model", "credential", "base_url", "temperature",
                  "max_tokens", "timeout_seconds", "confidence_threshold", "knowledge", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class AssistantAskSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, required=False,
                                                 queryset=get_user_model().objects.filter(is_active=True))
    member_names = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "priority", "timezone", "business_hours", "holidays", "holiday_country",
                  "holiday_subdivision", "notify_email", "members", "member_names"]

    def get_member_names(self, team: Team) -> list[str]:
        return [m.get_full_name() or m.username for m in team.members.all()]

    def validate_holiday_country(self, value: str) -> str:
        from integrations.holidays import UnknownCalendar, subdivisions

        if value:
            try:
                subdivisions(value)
            except UnknownCalendar as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return value.upper()

    def validate(self, attrs):
        current = self.instance
        errors = validate_business_hours(
            attrs.get("timezone", current.timezone if current else "America/Sao_Paulo"),
            attrs.get("business_hours", current.business_hours if current else {}),
            attrs.get("holidays", current.holidays if current else []),
        )
        country = attrs.get("holiday_country", current.holiday_country if current else "")
        subdivision = (attrs.get("holiday_subdivision", current.holiday_subdivision if current else "") or "").upper()
        if subdivision:
            from integrations.holidays import UnknownCalendar, subdivisions

            try:
                if not country or subdivision not in subdivisions(country):
                    errors["holiday_subdivision"] = [f"'{subdivision}' is not a state of {country or '?'}"]
            except UnknownCalendar:
                pass
            attrs["holiday_subdivision"] = subdivision
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
