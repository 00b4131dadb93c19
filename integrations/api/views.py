"""Integrations API views: parse, call one service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import error_response
from core.filters import choice_param, int_param
from flows.nodes.base import StepError
from integrations.ai.services import knowledge_entry_create
from integrations.api import serializers as s
from integrations.events import services as events
from integrations.events.authentication import ApiKeyAuthentication, IsIntegration
from integrations.models import (
    ApiIntegration,
    Assistant,
    Credential,
    Team,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.vault import services as vault
from integrations.webhooks import services as webhooks

ADMIN_WRITES = {"POST": "admin", "PUT": "admin", "PATCH": "admin", "DELETE": "admin"}
ADMIN_ALL = {**ADMIN_WRITES, "GET": "admin", "HEAD": "admin", "OPTIONS": "admin"}
MAX_EVENT_BYTES = 64 * 1024


class EventView(APIView):
    """``POST /api/events/``: an outside system starts flows for a contact (API key auth)."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsIntegration]
    serializer_class = s.EventInSerializer

    @extend_schema(request=s.EventInSerializer, responses={202: s.EventAcceptedSerializer,
                                                           200: s.EventAcceptedSerializer})
    def post(self, request):
        if len(request.body) > MAX_EVENT_BYTES:
            return error_response("payload_too_large", f"events are at most {MAX_EVENT_BYTES // 1024} KB",
                                  http_status=413)
        body = s.EventInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            event, created = events.external_event_receive(
                integration=request.auth, event_name=data["event"], phone=data["contact"]["phone"],
                contact_name=data["contact"].get("name", ""), data=data.get("data") or {},
                idempotency_key=request.headers.get("Idempotency-Key", "").strip(), channel_id=data.get("channel"),
            )
        except events.IdempotencyConflict as exc:
            return error_response(exc.code, exc.message, details={exc.field: [exc.message]}, http_status=409)
        except events.EventRejected as exc:
            return error_response("validation_error", exc.message, details={exc.field: [exc.message]})
        answer = {"id": event.pk, "status": "accepted" if created else "duplicate", "duplicate": not created}
        return Response(answer, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class EventDetailView(APIView):
    """``GET /api/events/{id}/``: how one of this integration's events was processed."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsIntegration]
    serializer_class = s.EventStatusSerializer

    @extend_schema(responses={200: s.EventStatusSerializer})
    def get(self, request, event_id: int):
        event = events.external_event_get(integration=request.auth, event_id=event_id)
        if event is None:
            return error_response("not_found", "no such event for this integration", http_status=404)
        return Response(s.EventStatusSerializer({
            "id": event.pk, "event": event.payload.get("event", ""), "state": event.state, "error": event.error,
            "received_at": event.received_at, "processed_at": event.processed_at,
            "runs": [{"id": run.pk, "flow": run.flow.name, "status": run.status} for run in event.started_runs.all()],
        }).data)


class CredentialViewSet(viewsets.ModelViewSet):
    """The vault. Anyone may list names (to pick one in a node); only admins write. Secrets never come back."""

    queryset = Credential.objects.all()
    serializer_class = s.CredentialSerializer
    required_roles = ADMIN_WRITES

    def perform_create(self, serializer):
        serializer.instance = vault.credential_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = vault.credential_update(credential=serializer.instance, **serializer.validated_data)


class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    queryset = WebhookSubscription.objects.all()
    serializer_class = s.WebhookSubscriptionSerializer
    required_roles = ADMIN_ALL

    @extend_schema(responses={201: s.WebhookSubscriptionCreatedSerializer})
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        subscription, secret = webhooks.webhook_subscription_create(**body.validated_data)
        answer = s.WebhookSubscriptionCreatedSerializer(subscription).data
        answer["secret"] = secret
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.WebhookSubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        subscription = webhooks.webhook_subscription_enable(subscription=self.get_object())
        return Response(s.WebhookSubscriptionSerializer(subscription).data)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log (filter with ``?subscription=<id>&status=failed``) and manual redelivery."""

    serializer_class = s.WebhookDeliverySerializer
    required_roles = ADMIN_ALL

    def get_queryset(self):
        query = WebhookDelivery.objects.select_related("subscription")
        params = self.request.query_params
        subscription = int_param(params, "subscription", min_value=1)
        if subscription is not None:
            query = query.filter(subscription_id=subscription)
        status_ = choice_param(params, "status", WebhookDelivery.Status.values)
        if status_:
            query = query.filter(status=status_)
        return query[:500] if self.action == "list" else query

    @extend_schema(request=None, responses={202: s.WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = webhooks.webhook_delivery_redeliver(delivery=self.get_object())
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class ApiIntegrationViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                            mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = ApiIntegration.objects.all()
    serializer_class = s.ApiIntegrationSerializer
    required_roles = ADMIN_ALL

    @extend_schema(responses={201: s.ApiIntegrationCreatedSerializer})
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        integration, key = events.api_integration_create(name=body.validated_data["name"])
        answer = s.ApiIntegrationCreatedSerializer(integration).data
        answer["api_key"] = key
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.ApiIntegrationCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, pk=None):
        integration = self.get_object()
        key = events.api_integration_rotate_key(integration=integration)
        answer = s.ApiIntegrationCreatedSerializer(integration).data
        answer["api_key"] = key
        return Response(answer)


class AssistantViewSet(viewsets.ModelViewSet):
    """Assistants and their knowledge (editors write); ``ask`` tries one without a flow."""

    queryset = Assistant.objects.select_related("credential").prefetch_related("knowledge")
    serializer_class = s.AssistantSerializer

    @extend_schema(request=s.AssistantAskSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def ask(self, request, pk=None):
        from integrations.ai.services import assistant_reply

        body = s.AssistantAskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            return Response(assistant_reply(assistant=self.get_object(), text=body.validated_data["text"],
                                            memory_turns=0))
        except StepError as exc:
            return error_response(exc.code, exc.message, details={"text": [exc.message]}, http_status=422)

    @extend_schema(request=s.KnowledgeEntrySerializer, responses={201: s.KnowledgeEntrySerializer})
    @action(detail=True, methods=["post"])
    def knowledge(self, request, pk=None):
        assistant = self.get_object()
        body = s.KnowledgeEntrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = knowledge_entry_create(assistant=assistant, **body.validated_data)
        return Response(s.KnowledgeEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class TeamViewSet(viewsets.ModelViewSet):
    queryset = Team.objects.all()
    serializer_class = s.TeamSerializer
    required_roles = ADMIN_WRITES
