"""Test contacts of the editor's Test run: list, create and change the sandbox contacts a tester plays."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from core.errors import error_response
from core.schema import LIST_OF_OBJECTS
from flows import testruns
from flows.api import serializers as s
from messaging.models import Contact


def _refused(exc: testruns.TestContactError) -> Response:
    return error_response("invalid_test_contact", exc.message["en"], details={exc.field: [exc.message["en"]]},
                          messages=exc.message)


class TestContactViewSet(viewsets.GenericViewSet):
    """Sandbox test contacts (never real customers): phone, name, attributes and marketing opt-in."""

    serializer_class = s.TestContactSerializer

    def get_queryset(self):
        return Contact.objects.filter(is_test=True).order_by("-id")

    @extend_schema(responses={200: LIST_OF_OBJECTS})
    def list(self, request):
        return Response([s.test_contact_as_dict(c) for c in self.get_queryset()[:50]])

    @extend_schema(request=s.TestContactSerializer, responses={201: dict})
    def create(self, request):
        data = s.TestContactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            contact = testruns.test_contact_create(user=request.user, **data.validated_data)
        except testruns.TestContactError as exc:
            return _refused(exc)
        return Response(s.test_contact_as_dict(contact), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TestContactUpdateSerializer, responses={200: dict})
    def partial_update(self, request, pk=None):
        contact = get_object_or_404(self.get_queryset(), pk=pk)
        data = s.TestContactUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            contact = testruns.test_contact_update(contact=contact, **data.validated_data)
        except testruns.TestContactError as exc:
            return _refused(exc)
        return Response(s.test_contact_as_dict(contact))
