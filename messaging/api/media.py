"""``/api/media/``: the media library — upload (WhatsApp's size and type checks), list, preview and
download links, rename, delete, and the flows that use a file. Reads: viewer; writes: editor."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import error_response
from messaging.media import MediaRefused, media_delete, media_library_create, media_rename, media_url, media_used_in
from messaging.models import MediaFile


class MediaFileSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Signed, expiring link (works without a session).")
    preview_url = serializers.SerializerMethodField(help_text="Inline view for signed-in users.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = MediaFile
        fields = ["id", "name", "filename", "kind", "mime_type", "size", "sha256", "status", "created_at",
                  "url", "preview_url", "download_url"]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return media_url(obj)

    def get_preview_url(self, obj) -> str:
        return reverse("media-file-by-id", kwargs={"pk": obj.pk})

    def get_download_url(self, obj) -> str:
        return reverse("media-file-by-id", kwargs={"pk": obj.pk}) + "?download=1"


class MediaUsageSerializer(serializers.Serializer):
    flow = serializers.IntegerField()
    name = serializers.CharField()
    nodes = serializers.ListField(child=serializers.CharField())
    published = serializers.BooleanField()


class MediaDetailSerializer(MediaFileSerializer):
    used_in = serializers.SerializerMethodField()

    class Meta(MediaFileSerializer.Meta):
        fields = [*MediaFileSerializer.Meta.fields, "used_in"]
        read_only_fields = fields

    @extend_schema(responses=MediaUsageSerializer(many=True))
    def get_used_in(self, obj) -> list[dict]:
        return media_used_in(obj.pk)


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)


class MediaRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)


def _refused(exc: MediaRefused) -> Response:
    return error_response(exc.code, exc.message, details={"file": [exc.message]})


def _library():
    return MediaFile.objects.filter(direction=MediaFile.Direction.LIBRARY)


def _not_found() -> Response:
    return error_response("not_found", "No such media file.", http_status=status.HTTP_404_NOT_FOUND)


class MediaListView(APIView):
    """``GET``: the library (``?kind=image``, ``?q=`` by name). ``POST`` (multipart ``file``, ``name``): upload."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = MediaUploadSerializer

    @extend_schema(parameters=[OpenApiParameter("kind", str), OpenApiParameter("q", str)],
                   responses=MediaFileSerializer(many=True))
    def get(self, request):
        files = _library()
        kind = request.query_params.get("kind")
        if kind:
            files = files.filter(kind=kind)
        query = (request.query_params.get("q") or "").strip()
        if query:
            files = files.filter(name__icontains=query)
        return Response(MediaFileSerializer(files[:500], many=True).data)

    @extend_schema(request={"multipart/form-data": MediaUploadSerializer}, responses={201: MediaFileSerializer})
    def post(self, request):
        body = MediaUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            media = media_library_create(upload=body.validated_data["file"], name=body.validated_data.get("name", ""),
                                         user=request.user)
        except MediaRefused as exc:
            return _refused(exc)
        return Response(MediaFileSerializer(media).data, status=status.HTTP_201_CREATED)


class MediaDetailView(APIView):
    """``GET``: one file and the flows that use it. ``PATCH {"name"}``: rename. ``DELETE``: remove it
    (409 while a flow uses it, unless ``?force=1``)."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]
    serializer_class = MediaRenameSerializer

    @extend_schema(responses=MediaDetailSerializer)
    def get(self, request, pk: int):
        media = _library().filter(pk=pk).first()
        return Response(MediaDetailSerializer(media).data) if media else _not_found()

    @extend_schema(request=MediaRenameSerializer, responses=MediaFileSerializer)
    def patch(self, request, pk: int):
        media = _library().filter(pk=pk).first()
        if media is None:
            return _not_found()
        body = MediaRenameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            media = media_rename(media=media, name=body.validated_data["name"])
        except MediaRefused as exc:
            return _refused(exc)
        return Response(MediaFileSerializer(media).data)

    @extend_schema(parameters=[OpenApiParameter("force", bool)], responses={204: None})
    def delete(self, request, pk: int):
        media = _library().filter(pk=pk).first()
        if media is None:
            return _not_found()
        used = media_used_in(media.pk)
        if used and request.query_params.get("force") not in ("1", "true"):
            names = ", ".join(u["name"] for u in used)
            return error_response("media_in_use", f"This file is used by: {names}. Change those flows first, "
                                  "or delete anyway (their sends will fail).", details={"used_in": used},
                                  http_status=status.HTTP_409_CONFLICT)
        media_delete(media=media)
        return Response(status=status.HTTP_204_NO_CONTENT)
