"""Channel pages' API (admins only): the guided connect form's token check, a channel's health
(webhook arrivals, quality, limits, pause), resume, settings with write-only secrets, template sync."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from core.crypto import mask
from core.errors import error_response
from messaging import channels as channel_services
from messaging.api.serializers import ChannelOutputSerializer
from messaging.models import Channel, ChannelAlert

ADMIN = {"GET": "admin", "POST": "admin", "PATCH": "admin", "PUT": "admin", "DELETE": "admin", "HEAD": "admin",
         "OPTIONS": "admin"}


class GraphCheckSerializer(serializers.Serializer):
    phone_number_id = serializers.RegexField(r"^\d{5,32}$", help_text="Phone number id from Meta's dashboard")
    access_token = serializers.CharField(write_only=True, style={"input_type": "password"})
    graph_api_base_url = serializers.URLField(required=False, allow_blank=True)
    graph_api_version = serializers.RegexField(r"^v\d+\.\d+$", required=False, allow_blank=True)


class ChannelSettingsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    display_phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    access_token = serializers.CharField(required=False, allow_blank=True, write_only=True)
    app_secret = serializers.CharField(required=False, allow_blank=True, write_only=True)
    verify_token = serializers.CharField(max_length=128, required=False, allow_blank=True, write_only=True)
    graph_api_base_url = serializers.URLField(required=False)
    graph_api_version = serializers.RegexField(r"^v\d+\.\d+$", required=False)
    messages_per_second = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    is_active = serializers.BooleanField(required=False)
    read_receipts = serializers.BooleanField(required=False)
    typing_indicator = serializers.BooleanField(required=False)


def callback_url(request) -> str:
    return request.build_absolute_uri(reverse("whatsapp-webhook"))


def channel_health(request, channel: Channel) -> dict:
    """Everything the channel page shows. Secrets never are — access token, app secret and verify token
    come back masked (the verify token is shown once, when the channel is connected: connect-info)."""
    data = ChannelOutputSerializer(channel).data
    data["callback_url"] = callback_url(request)
    data["webhooks"] = channel_services.webhook_arrivals(channel=channel)
    data["alerts"] = [{"id": a.pk, "code": a.code, "message": a.message, "created_at": a.created_at.isoformat()}
                      for a in ChannelAlert.objects.filter(channel=channel, resolved_at__isnull=True)[:20]]
    data["paused_at"] = channel.paused_at.isoformat() if channel.paused_at else None
    if channel.provider_key == "whatsapp_cloud":
        data.update(verify_token_masked=mask(channel.verify_token), verified_name=channel.verified_name,
                    quality_rating=channel.quality_rating, messaging_limit_tier=channel.messaging_limit_tier,
                    throughput_level=channel.throughput_level,
                    checked_at=channel.checked_at.isoformat() if channel.checked_at else None,
                    check_error=channel.check_error, app_secret_masked="••••" if channel.app_secret else "")
    data["template_count"] = channel.templates.count()
    return data


def _channel(pk) -> Channel:
    return get_object_or_404(Channel.objects.all(), pk=pk)


class ConnectInfoView(APIView):
    """``GET /api/channels/connect-info/``: the callback URL and a fresh verify token for the form."""

    required_roles = ADMIN

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response({"callback_url": callback_url(request),
                         "verify_token": channel_services.verify_token_generate()})


class GraphCheckView(APIView):
    """``POST /api/channels/check/``: try a token on a number before saving the channel."""

    required_roles = ADMIN
    serializer_class = GraphCheckSerializer

    @extend_schema(request=GraphCheckSerializer, responses={200: dict})
    def post(self, request):
        body = GraphCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(channel_services.graph_check(**body.validated_data).as_dict())


class ChannelHealthView(APIView):
    """``GET /api/channels/{id}/health/``: state, pause reason, webhook arrivals, quality and limits.
    ``PATCH`` changes settings; a blank secret keeps the stored one."""

    required_roles = ADMIN
    serializer_class = ChannelSettingsSerializer

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        return Response(channel_health(request, _channel(pk)))

    @extend_schema(request=ChannelSettingsSerializer, responses={200: dict})
    def patch(self, request, pk: int):
        channel = _channel(pk)
        body = ChannelSettingsSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            channel = channel_services.channel_update(channel=channel, **body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(channel_health(request, channel))


class ChannelCheckView(APIView):
    """``POST /api/channels/{id}/check/``: check the stored token against the Graph API now."""

    required_roles = ADMIN

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, pk: int):
        channel = _channel(pk)
        if channel.provider_key != "whatsapp_cloud":
            return error_response("not_applicable", "Only WhatsApp Cloud API channels have a token to check.")
        result = channel_services.channel_check(channel=channel)
        return Response({**result.as_dict(), "channel": channel_health(request, channel)})


class ChannelResumeView(APIView):
    """``POST /api/channels/{id}/resume/``: unpause, resolve the alerts and send what waited."""

    required_roles = ADMIN

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, pk: int):
        from messaging.services import channel_resume

        channel = _channel(pk)
        requeued = channel_resume(channel=channel)
        return Response({"requeued": requeued, "channel": channel_health(request, channel)})


class ChannelTemplateSyncView(APIView):
    """``POST /api/channels/{id}/sync-templates/``: fetch the WABA's templates from Meta now."""

    required_roles = {"POST": "editor"}

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, pk: int):
        from messaging.providers.base import ProviderError
        from messaging.services import templates_sync

        channel = _channel(pk)
        if channel.provider_key != "whatsapp_cloud":
            return error_response("not_applicable", "Only WhatsApp Cloud API channels have templates at Meta.")
        try:
            counts = templates_sync(channel=channel)
        except ProviderError as exc:
            return error_response("graph_error", exc.message, details={"code": [exc.code]},
                                  http_status=status.HTTP_502_BAD_GATEWAY)
        return Response(counts)
