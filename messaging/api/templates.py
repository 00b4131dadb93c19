"""``POST /api/templates/sync/``: fetch every WhatsApp channel's templates from Meta now (editors)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.models import WhatsAppCloudChannel


class TemplateSyncView(APIView):
    required_roles = {"POST": "editor"}

    @extend_schema(request=None, responses={200: dict})
    def post(self, request):
        from messaging.providers.base import ProviderError
        from messaging.services import templates_sync

        results = []
        for channel in WhatsAppCloudChannel.objects.filter(is_active=True).order_by("name"):
            try:
                results.append({"channel": channel.name, "ok": True, **templates_sync(channel=channel)})
            except ProviderError as exc:
                results.append({"channel": channel.name, "ok": False, "error": exc.message, "code": exc.code})
        return Response({"channels": results})
