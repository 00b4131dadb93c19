"""Serializers of the messaging API. Secrets are write-only: only "is it set" and a mask come back."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.crypto import mask
from core.secrets import SecretsMaskedMixin
from messaging.models import Channel, Contact, Message, MessageTemplate

SECRET_FIELDS = ("access_token", "app_secret", "verify_token")


class ChannelInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["whatsapp_cloud", "sandbox"])
    name = serializers.CharField(max_length=120)
    phone_number_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    waba_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    display_phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    access_token = serializers.CharField(required=False, allow_blank=True, write_only=True,
                                         style={"input_type": "password"})
    app_secret = serializers.CharField(required=False, allow_blank=True, write_only=True,
                                       style={"input_type": "password"})
    verify_token = serializers.CharField(max_length=128, required=False, allow_blank=True, write_only=True)
    graph_api_base_url = serializers.URLField(required=False, allow_blank=True)
    graph_api_version = serializers.RegexField(r"^v\d+\.\d+$", required=False, allow_blank=True)
    messages_per_second = serializers.IntegerField(required=False, min_value=1, max_value=1000)

    def validate(self, attrs):
        if attrs["kind"] == "whatsapp_cloud":
            missing = [f for f in ("phone_number_id", "waba_id", "access_token", "app_secret", "verify_token")
                       if not attrs.get(f)]
            if missing:
                raise serializers.ValidationError({f: [_("This field is required for a WhatsApp Cloud API channel.")]
                                                   for f in missing})
            from messaging.models import WhatsAppCloudChannel

            if WhatsAppCloudChannel.objects.filter(phone_number_id=attrs["phone_number_id"]).exists():
                raise serializers.ValidationError({"phone_number_id": [_("A channel with this phone number id exists.")]})
        return attrs


class ChannelOutputSerializer(serializers.Serializer):
    """A channel as the API shows it: configuration, never secret values."""

    def to_representation(self, channel: Channel):
        data = {"id": channel.pk, "kind": channel.provider_key, "name": channel.name, "is_active": channel.is_active,
                "paused": channel.is_paused, "pause_reason": channel.pause_reason,
                "created_at": channel.created_at.isoformat()}
        if channel.provider_key == "whatsapp_cloud":
            data.update(
                phone_number_id=channel.phone_number_id, waba_id=channel.waba_id,
                display_phone_number=channel.display_phone_number, graph_api_base_url=channel.graph_api_base_url,
                graph_api_version=channel.graph_api_version, messages_per_second=channel.messages_per_second,
                access_token_set=bool(channel.access_token), app_secret_set=bool(channel.app_secret),
                verify_token_set=bool(channel.verify_token), access_token_masked=mask(channel.access_token),
                verify_token_masked=mask(channel.verify_token),
                read_receipts=channel.read_receipts, typing_indicator=channel.typing_indicator,
            )
        return data


class TemplateSerializer(serializers.ModelSerializer):
    body_text = serializers.CharField(read_only=True)

    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "language", "category", "status", "parameter_count", "body_text", "components",
                  "channel", "synced_at"]


class ContactSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    in_service_window = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "phone", "name", "channel", "attributes", "consent", "tags", "last_inbound_at",
                  "in_service_window", "is_test", "created_at"]

    def get_in_service_window(self, contact: Contact) -> bool:
        return contact.in_service_window()


class MessageSerializer(SecretsMaskedMixin, serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "direction", "kind", "content", "contact", "conversation", "channel", "run",
                  "provider_message_id", "status", "error_code", "error", "attempts", "created_at", "sent_at",
                  "delivered_at", "read_at"]
