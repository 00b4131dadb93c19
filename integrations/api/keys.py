"""API keys of outside systems (admins only): revoke and the last calls each key made."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from flows.models import InboundEvent
from integrations.api.serializers import ApiIntegrationSerializer
from integrations.models import ApiIntegration

ADMIN = {"GET": "admin", "POST": "admin", "HEAD": "admin", "OPTIONS": "admin"}


def last_calls(integration: ApiIntegration, limit: int = 20) -> list[dict]:
    """The integration's latest accepted events (``POST /api/events/``) and what they started."""
    events = (InboundEvent.objects.filter(kind=InboundEvent.Kind.EXTERNAL,
                                          dedupe_key__startswith=f"api:{integration.pk}:")
              .select_related("contact").prefetch_related("started_runs__flow").order_by("-id")[:limit])
    return [{"id": e.pk, "event": e.payload.get("event", ""), "state": e.state, "error": e.error,
             "contact": e.contact.phone if e.contact else None, "received_at": e.received_at.isoformat(),
             "runs": [{"id": r.pk, "flow": r.flow.name, "status": r.status} for r in e.started_runs.all()]}
            for e in events]


class ApiIntegrationCallsView(APIView):
    """``GET /api/api-integrations/{id}/calls/``: the last calls of this key."""

    required_roles = ADMIN

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        integration = get_object_or_404(ApiIntegration.objects.all(), pk=pk)
        return Response({"integration": ApiIntegrationSerializer(integration).data,
                         "calls": last_calls(integration)})


class ApiIntegrationRevokeView(APIView):
    """``POST /api/api-integrations/{id}/revoke/``: the key stops working at once (rotate gives a new one)."""

    required_roles = ADMIN

    @extend_schema(request=None, responses={200: ApiIntegrationSerializer})
    def post(self, request, pk: int):
        from integrations.events.services import api_integration_revoke

        integration = get_object_or_404(ApiIntegration.objects.all(), pk=pk)
        return Response(ApiIntegrationSerializer(api_integration_revoke(integration=integration)).data)
