"""Segments, campaigns and date events API. Viewers read; editors build, start, pause, resume, cancel."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from messaging.campaigns import selectors
from messaging.campaigns import services as campaigns
from messaging.campaigns.events import date_event_save
from messaging.campaigns.segments import SegmentInvalid
from messaging.models import Campaign, Channel, ContactImport, DateEvent, MessageTemplate, Segment
from messaging.rules import SendRefused


def _invalid(exc: SegmentInvalid | campaigns.CampaignRejected) -> ValidationError:
    field = exc.field if isinstance(exc, campaigns.CampaignRejected) else f"definition.{exc.field}".rstrip(".")
    return ValidationError({field: [exc.message]})


class SegmentSerializer(serializers.ModelSerializer):
    definition = serializers.JSONField()

    class Meta:
        model = Segment
        fields = ["id", "name", "definition", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class DefinitionSerializer(serializers.Serializer):
    definition = serializers.JSONField()


class SegmentViewSet(viewsets.ModelViewSet):
    """Saved filters over contacts. ``POST /api/segments/count/`` counts an unsaved definition live."""

    serializer_class = SegmentSerializer
    queryset = Segment.objects.all()

    def perform_create(self, serializer):
        try:
            serializer.instance = campaigns.segment_save(name=serializer.validated_data["name"],
                                                         definition=serializer.validated_data["definition"],
                                                         user=self.request.user)
        except SegmentInvalid as exc:
            raise _invalid(exc) from exc

    def perform_update(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = campaigns.segment_save(
                segment=serializer.instance, name=data.get("name", serializer.instance.name),
                definition=data.get("definition", serializer.instance.definition))
        except SegmentInvalid as exc:
            raise _invalid(exc) from exc

    def perform_destroy(self, instance):
        if instance.campaigns.exists():
            raise ValidationError({"non_field_errors": ["campaigns use this segment"]})
        instance.delete()

    @extend_schema(request=DefinitionSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="count")
    def count_definition(self, request):
        """The live count and a sample of a definition being built (nothing saved)."""
        serializer = DefinitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            return Response(selectors.segment_count_and_sample(serializer.validated_data["definition"]))
        except SegmentInvalid as exc:
            raise _invalid(exc) from exc

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None):
        return Response(selectors.segment_count_and_sample(self.get_object().definition, sample=0))

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def sample(self, request, pk=None):
        return Response(selectors.segment_count_and_sample(self.get_object().definition))


class CampaignSerializer(serializers.ModelSerializer):
    channel = serializers.PrimaryKeyRelatedField(queryset=Channel.objects.all(), required=False, allow_null=True)
    template = serializers.PrimaryKeyRelatedField(queryset=MessageTemplate.objects.all(), required=False,
                                                  allow_null=True)
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), required=False, allow_null=True)
    contact_import = serializers.PrimaryKeyRelatedField(queryset=ContactImport.objects.all(), required=False,
                                                        allow_null=True)
    parameters = serializers.JSONField(required=False)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, default_timezone=None)
    reply_window_hours = serializers.IntegerField(required=False, min_value=1, max_value=24 * 30)

    class Meta:
        model = Campaign
        fields = ["id", "name", "channel", "template", "parameters", "segment", "contact_import", "scheduled_at",
                  "timezone", "reply_flow_id", "reply_window_hours", "status", "pause_reason", "planned",
                  "test_sent_at", "created_at", "started_at", "finished_at"]
        read_only_fields = ["id", "status", "pause_reason", "planned", "test_sent_at", "created_at", "started_at",
                            "finished_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        template = instance.template
        data["template_name"] = template.name if template else None
        data["template_language"] = template.language if template else None
        data["template_category"] = template.category if template else None
        data["channel_name"] = instance.channel.name if instance.channel_id else None
        return data


class TestSendSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)


class PauseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


RECIPIENT_PARAMETERS = [OpenApiParameter("status", str), OpenApiParameter("reason", str), OpenApiParameter("q", str),
                        OpenApiParameter("limit", int), OpenApiParameter("offset", int),
                        OpenApiParameter("export", str, enum=["csv"])]


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Campaigns: a template to a segment or CSV, with preview, audience, estimate, test send and
    start / pause / resume / cancel."""

    serializer_class = CampaignSerializer
    queryset = Campaign.objects.select_related("template", "channel", "segment")

    def _save(self, serializer, campaign=None):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = campaigns.campaign_save(campaign=campaign, data=data, user=self.request.user)
        except campaigns.CampaignRejected as exc:
            raise _invalid(exc) from exc

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        if instance.status != Campaign.Status.DRAFT:
            raise ValidationError({"non_field_errors": ["only a draft can be deleted; cancel it instead"]})
        instance.delete()

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def options(self, request):
        """What the wizard offers: channels (name and state only) and approved templates."""
        channels = [{"id": c.pk, "name": c.name, "kind": c.provider_key, "paused": c.is_paused}
                    for c in Channel.objects.filter(is_active=True).order_by("name")]
        templates = [{"id": t.pk, "name": t.name, "language": t.language, "category": t.category,
                      "channel": t.channel_id, "parameter_count": t.parameter_count, "body_text": t.body_text}
                     for t in MessageTemplate.objects.filter(status=MessageTemplate.Status.APPROVED)]
        return Response({"channels": channels, "templates": templates})

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def check(self, request, pk=None):
        """The publish-time check: errors (a start is refused) and warnings."""
        return Response(campaigns.campaign_check(campaign=self.get_object()))

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """The message as a few sample contacts would get it."""
        return Response({"samples": selectors.campaign_preview(self.get_object())})

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def audience(self, request, pk=None):
        """How many it reaches after exclusions, and the excluded by reason."""
        return Response(selectors.audience_breakdown(self.get_object()))

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def estimate(self, request, pk=None):
        """How long it takes within the channel's throughput and messaging limit."""
        campaign = self.get_object()
        audience = selectors.audience_breakdown(campaign)
        return Response({"audience": audience, "estimate": selectors.campaign_estimate(campaign, audience=audience)})

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        return Response(selectors.campaign_progress(self.get_object()))

    @extend_schema(parameters=RECIPIENT_PARAMETERS, responses={200: dict})
    @action(detail=True, methods=["get"])
    def recipients(self, request, pk=None):
        """Recipients with their status (filter by status, reason, phone or name); ``?export=csv`` exports."""
        params = request.query_params
        queryset = selectors.recipient_list(self.get_object(), status=params.get("status"),
                                            reason=params.get("reason"), q=params.get("q"))
        if params.get("export") == "csv":
            response = HttpResponse(selectors.recipients_csv(queryset), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="campaign-{pk}-recipients.csv"'
            return response
        try:
            limit = min(max(int(params.get("limit", 100)), 1), 500)
            offset = max(int(params.get("offset", 0)), 0)
        except ValueError:
            raise ValidationError({"limit": ["give whole numbers"]}) from None
        rows = [selectors.recipient_row(r) for r in queryset[offset:offset + limit]]
        return Response({"results": rows, "count": queryset.count()})

    @extend_schema(request=TestSendSerializer, responses={201: dict})
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request, pk=None):
        """Send the campaign's message to one number now (WhatsApp's rules apply)."""
        serializer = TestSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            message = campaigns.campaign_test_send(campaign=self.get_object(), phone=serializer.validated_data["phone"],
                                                   user=request.user)
        except campaigns.CampaignRejected as exc:
            raise _invalid(exc) from exc
        except SendRefused as exc:
            raise ValidationError({"phone": [exc.message]}) from exc
        return Response({"message_id": message.pk, "status": message.status,
                         "text": message.content.get("rendered_text", "")}, status=status.HTTP_201_CREATED)

    def _act(self, func, **kwargs):
        try:
            campaign = func(campaign=self.get_object(), **kwargs)
        except campaigns.CampaignRejected as exc:
            raise _invalid(exc) from exc
        return Response(CampaignSerializer(Campaign.objects.get(pk=campaign.pk)).data)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start now (or at its scheduled time). Refused with the check's first error."""
        return self._act(campaigns.campaign_start)

    @extend_schema(request=PauseSerializer, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        serializer = PauseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        who = getattr(request.user, "username", "")
        reason = serializer.validated_data["reason"] or f"paused by {who}"
        return self._act(campaigns.campaign_pause, reason=reason)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._act(campaigns.campaign_resume)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(campaigns.campaign_cancel)


class DateEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = DateEvent
        fields = ["id", "name", "attribute", "offset", "unit", "time_of_day", "timezone", "flow_id", "is_active",
                  "created_at"]
        read_only_fields = ["id", "created_at"]


class DateEventViewSet(viewsets.ModelViewSet):
    """Date-relative events: "N minutes/hours/days before or after a contact's date attribute" starts a flow."""

    serializer_class = DateEventSerializer
    queryset = DateEvent.objects.all()

    def _save(self, serializer, event=None):
        try:
            serializer.instance = date_event_save(event=event, data=dict(serializer.validated_data))
        except ValueError as exc:
            field = "timezone" if "time zone" in str(exc) else "attribute"
            raise ValidationError({field: [str(exc)]}) from exc

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)
