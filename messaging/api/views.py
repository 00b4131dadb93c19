"""REST API of the messaging app: channels, templates, contacts, messages. Views are thin."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.filters import choice_param, int_param, text_param
from core.schema import LIST_OF_OBJECTS
from messaging import selectors
from messaging.api.serializers import (
    ChannelInputSerializer,
    ChannelOutputSerializer,
    MessageSerializer,
    TemplateSerializer,
)
from messaging.models import Message
from messaging.services import channel_create


class ChannelViewSet(viewsets.GenericViewSet):
    """Channels. Creating one needs the admin role; secrets are accepted but never returned."""

    # Only admins see channels (their numbers, ids and state), as they alone manage them.
    required_roles = {"POST": "admin", "PUT": "admin", "PATCH": "admin", "DELETE": "admin", "GET": "admin",
                      "HEAD": "admin", "OPTIONS": "admin"}
    serializer_class = ChannelInputSerializer

    def get_queryset(self):
        return selectors.channel_list()

    @extend_schema(responses={200: LIST_OF_OBJECTS})
    def list(self, request):
        return Response([ChannelOutputSerializer(c).data for c in self.get_queryset()])

    @extend_schema(responses={200: dict})
    def retrieve(self, request, pk=None):
        channel = self.get_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
        if channel is None:
            return Response({"error": {"code": "not_found", "message": "No such channel.", "details": {}}},
                            status=status.HTTP_404_NOT_FOUND)
        return Response(ChannelOutputSerializer(channel).data)

    @extend_schema(request=ChannelInputSerializer, responses={201: dict})
    def create(self, request):
        serializer = ChannelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            channel = channel_create(**data)
        except DjangoValidationError as exc:
            from rest_framework.exceptions import ValidationError

            raise ValidationError(exc.message_dict) from exc
        return Response(ChannelOutputSerializer(channel).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("language", str),
                           OpenApiParameter("channel", int), OpenApiParameter("category", str)])
class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Templates for the editor's picker: ``?status=APPROVED`` gives what ``send_template`` may use."""

    serializer_class = TemplateSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.template_list(status=text_param(params, "status"), language=text_param(params, "language"),
                                       channel_id=int_param(params, "channel", min_value=1),
                                       category=text_param(params, "category"))


@extend_schema(parameters=[OpenApiParameter("contact", int),
                           OpenApiParameter("direction", str, enum=Message.Direction.values)])
class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MessageSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.message_list(contact_id=int_param(params, "contact", min_value=1),
                                      direction=choice_param(params, "direction", Message.Direction.values))

    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()[:500]
        return Response(self.get_serializer(queryset, many=True).data)
