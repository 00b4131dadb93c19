"""Contacts API: search, the contact page, edits, opt-out by hand, CSV import (upload, dry run,
run with progress) and CSV export. Viewers read; editors change and import."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from core.filters import bool_param, choice_param, int_param, text_param
from core.schema import LIST_OF_OBJECTS
from messaging import contacts as services
from messaging import selectors
from messaging.api.serializers import ContactSerializer
from messaging.models import Contact, ContactImport, Tag

LIST_PARAMETERS = [OpenApiParameter("q", str, description="Phone or name contains"), OpenApiParameter("channel", int),
                   OpenApiParameter("tag", str), OpenApiParameter("consent", str, enum=Contact.Consent.values),
                   OpenApiParameter("consent_category", str, enum=list(Contact.CONSENT_CATEGORIES)),
                   OpenApiParameter("attribute", str, description="key=value (value contains) or key"),
                   OpenApiParameter("limit", int), OpenApiParameter("offset", int)]


def _rejected(exc: services.ImportRejected) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


def _filtered(request):
    params = request.query_params
    return selectors.contact_search(
        q=text_param(params, "q"), channel_id=int_param(params, "channel", min_value=1),
        tag=text_param(params, "tag"), consent=choice_param(params, "consent", Contact.Consent.values),
        consent_category=choice_param(params, "consent_category", list(Contact.CONSENT_CATEGORIES),
                                      default="marketing"),
        attribute=text_param(params, "attribute"), include_tests=bool_param(params, "include_tests"))


class ContactEditSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    attributes = serializers.DictField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=100)


class OptOutSerializer(serializers.Serializer):
    categories = serializers.ListField(child=serializers.ChoiceField(choices=list(Contact.CONSENT_CATEGORIES)),
                                       allow_empty=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ContactDetailSerializer(ContactSerializer):
    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "updated_at"]

    def to_representation(self, contact):
        data = super().to_representation(contact)
        data.update(selectors.contact_timeline(contact))
        data["channel_name"] = contact.channel.name if contact.channel else None
        return data


@extend_schema(parameters=LIST_PARAMETERS)
class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The contact list (a page of at most 500; the total is in ``X-Total-Count``) and one contact."""

    serializer_class = ContactSerializer

    def get_queryset(self):
        return _filtered(self.request).prefetch_related("tags")

    def get_serializer_class(self):
        return ContactDetailSerializer if self.action == "retrieve" else ContactSerializer

    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        limit = min(max(int_param(request.query_params, "limit", default=500), 1), 500)  # clamped, as before
        offset = int_param(request.query_params, "offset", default=0, max_value=2**31)  # offset + limit fits a bigint
        response = Response(self.get_serializer(queryset[offset:offset + limit], many=True).data)
        response["X-Total-Count"] = str(queryset.count())
        return response

    @extend_schema(request=ContactEditSerializer, responses={200: ContactDetailSerializer})
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        body = ContactEditSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            contact = services.contact_update(contact=contact, **body.validated_data)
        except services.ImportRejected as exc:
            raise _rejected(exc) from exc
        return Response(ContactDetailSerializer(contact).data)

    @extend_schema(request=OptOutSerializer, responses={200: ContactDetailSerializer})
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request, pk=None):
        contact = self.get_object()
        body = OptOutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.contact_opt_out_by_hand(contact=contact, actor=request.user, **body.validated_data)
        return Response(ContactDetailSerializer(Contact.objects.get(pk=contact.pk)).data)


class TagListView(APIView):
    """``GET /api/contacts/tags/``: every tag, for the filter and the tag editor."""

    @extend_schema(responses={200: LIST_OF_OBJECTS})
    def get(self, request):
        return Response([{"name": name} for name in Tag.objects.order_by("name").values_list("name", flat=True)])


class ContactExportView(APIView):
    """``GET /api/contacts/export/``: the filtered contacts as CSV."""

    @extend_schema(parameters=LIST_PARAMETERS, responses={(200, "text/csv"): str})
    def get(self, request):
        body = services.contacts_export_csv(_filtered(request))
        response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="contatos-{stamp}.csv"'
        return response


class ImportUploadSerializer(serializers.Serializer):
    content = serializers.CharField(trim_whitespace=False, help_text="The CSV text (UTF-8)")
    filename = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ImportOptionsSerializer(serializers.Serializer):
    mapping = serializers.DictField(help_text='{"phone": "Telefone", "name": "Nome", "tags": "Tags", '
                                              '"consent": "Aceita", "attributes": ["Cidade"]}')
    default_region = serializers.CharField(max_length=2, required=False, default="BR")
    consent_category = serializers.ChoiceField(choices=list(Contact.CONSENT_CATEGORIES), required=False,
                                               default="marketing")
    extra_tag = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    skip_invalid = serializers.BooleanField(required=False, default=False)


def import_state(contact_import: ContactImport) -> dict:
    return {"id": contact_import.pk, "filename": contact_import.filename, "status": contact_import.status,
            "row_count": contact_import.row_count, "created": contact_import.created,
            "updated": contact_import.updated, "skipped": contact_import.skipped, "error": contact_import.error,
            "options": contact_import.options, "progress": services.import_progress(contact_import),
            "created_at": contact_import.created_at.isoformat(),
            "finished_at": contact_import.finished_at.isoformat() if contact_import.finished_at else None}


def _import(pk) -> ContactImport:
    return get_object_or_404(ContactImport.objects.all(), pk=pk)


class ContactImportCreateView(APIView):
    """``POST /api/contacts/imports/``: upload a CSV; answers its columns, a sample and a suggested mapping."""

    required_roles = {"POST": "editor", "GET": "editor"}
    serializer_class = ImportUploadSerializer

    @extend_schema(request=ImportUploadSerializer, responses={201: dict})
    def post(self, request):
        body = ImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            contact_import = services.contact_import_upload(user=request.user, **body.validated_data)
        except services.ImportRejected as exc:
            raise _rejected(exc) from exc
        return Response({**import_state(contact_import), **services.import_preview(contact_import)},
                        status=status.HTTP_201_CREATED)


class ContactImportView(APIView):
    """``GET /api/contacts/imports/{id}/``: status and progress (the page polls it while importing)."""

    required_roles = {"GET": "editor"}

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        return Response(import_state(_import(pk)))


class ContactImportDryRunView(APIView):
    """``POST /api/contacts/imports/{id}/dry-run/``: check every row, write nothing."""

    required_roles = {"POST": "editor"}
    serializer_class = ImportOptionsSerializer

    @extend_schema(request=ImportOptionsSerializer, responses={200: dict})
    def post(self, request, pk: int):
        contact_import = _import(pk)
        body = ImportOptionsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            return Response(services.contact_import_dry_run(contact_import=contact_import, data=body.validated_data))
        except services.ImportRejected as exc:
            raise _rejected(exc) from exc


class ContactImportRunView(APIView):
    """``POST /api/contacts/imports/{id}/run/``: import in one transaction (a worker runs it)."""

    required_roles = {"POST": "editor"}
    serializer_class = ImportOptionsSerializer

    @extend_schema(request=ImportOptionsSerializer, responses={202: dict})
    def post(self, request, pk: int):
        contact_import = _import(pk)
        body = ImportOptionsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            contact_import = services.contact_import_queue(contact_import=contact_import, data=body.validated_data)
        except services.ImportRejected as exc:
            raise _rejected(exc) from exc
        return Response(import_state(contact_import), status=status.HTTP_202_ACCEPTED)
