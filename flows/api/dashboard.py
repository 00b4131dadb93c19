"""Dashboard API: figures for a period (global or one flow), a flow's per-node path counts, and
alerts (the bell, marking read, thresholds and where alerts are sent)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from flows import alerts, stats
from flows.models import Alert, AlertSettings, Flow

MAX_SPAN = timedelta(days=400)


class PeriodSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Start (ISO 8601); default: 24 hours ago.")
    until = serializers.DateTimeField(required=False, help_text="End (ISO 8601); default: now.")
    flow = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - timedelta(hours=24)
        if since >= until:
            raise serializers.ValidationError({"until": ["must be after 'since'"]})
        if until - since > MAX_SPAN:
            raise serializers.ValidationError({"since": [f"the period may span at most {MAX_SPAN.days} days"]})
        attrs["since"], attrs["until"] = since, until
        return attrs


PERIOD_PARAMETERS = [OpenApiParameter("since", str), OpenApiParameter("until", str), OpenApiParameter("flow", int)]


class DashboardView(APIView):
    """Runs, failures, integrations, messages and channels for a period (hourly roll-up figures)."""

    serializer_class = PeriodSerializer

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: dict})
    def get(self, request):
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        data = period.validated_data
        if data.get("flow"):
            get_object_or_404(Flow, pk=data["flow"])
        return Response(stats.dashboard(since=data["since"], until=data["until"], flow_id=data.get("flow")))


class PathCountsView(APIView):
    """How many runs entered each node of a flow and left by each port, and where runs ended."""

    serializer_class = PeriodSerializer

    @extend_schema(parameters=PERIOD_PARAMETERS[:2], responses={200: dict})
    def get(self, request, flow_id: int):
        flow = get_object_or_404(Flow, pk=flow_id)
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        data = period.validated_data
        return Response(stats.path_counts(flow_id=flow.pk, since=data["since"], until=data["until"]))


class AlertListView(APIView):
    """Open alerts and the ones resolved in the last day, newest first, with the caller's unread count."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        since = timezone.now() - timedelta(days=1)
        found = list(Alert.objects.filter(resolved_at__isnull=True)[:100]) + \
            list(Alert.objects.filter(resolved_at__gte=since)[:50])
        items = [alerts.alert_as_dict(a, user=request.user) for a in found]
        return Response({"unread": sum(1 for i in items if not i["read"] and not i["resolved_at"]), "alerts": items})


class AlertReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500,
                                help_text="The alerts to mark read; none: every open alert.")


class AlertReadView(APIView):
    """Mark alerts read for the signed-in user (reading is everyone's right, hence viewer)."""

    serializer_class = AlertReadSerializer
    required_roles = {"POST": "viewer"}

    @extend_schema(request=AlertReadSerializer, responses={200: dict})
    def post(self, request):
        data = AlertReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = alerts.alert_mark_read(user=request.user, alert_ids=data.validated_data.get("ids"))
        return Response({"marked": count})


class AlertSettingsSerializer(serializers.ModelSerializer):
    notify_to = serializers.ListField(child=serializers.EmailField(), required=False, max_length=20)
    failure_rate_threshold = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)

    class Meta:
        model = AlertSettings
        fields = ["flow", "failure_rate_enabled", "failure_rate_threshold", "failure_min_runs",
                  "timer_backlog_threshold", "graph_error_threshold", "notify_channel", "notify_team", "notify_to",
                  "notify_subscription", "notify_credential", "updated_at"]
        read_only_fields = ["flow", "updated_at"]

    def validate(self, attrs):
        channel = attrs.get("notify_channel", getattr(self.instance, "notify_channel", ""))
        need = {"slack": "notify_credential", "webhook": "notify_subscription"}.get(channel)
        if need and not attrs.get(need, getattr(self.instance, need, "")):
            raise serializers.ValidationError({need: ["required for this channel"]})
        if channel == "email" and not (attrs.get("notify_to", getattr(self.instance, "notify_to", []))
                                       or attrs.get("notify_team", getattr(self.instance, "notify_team", ""))):
            raise serializers.ValidationError({"notify_to": ["give addresses or a team"]})
        return attrs


class AlertSettingsView(APIView):
    """The installation's alert thresholds and target (admins change them)."""

    serializer_class = AlertSettingsSerializer
    required_roles = {"PUT": "admin", "PATCH": "admin"}

    @extend_schema(responses={200: AlertSettingsSerializer})
    def get(self, request):
        return Response(AlertSettingsSerializer(alerts.alert_settings_global()).data)

    @extend_schema(request=AlertSettingsSerializer, responses={200: AlertSettingsSerializer})
    def patch(self, request):
        data = AlertSettingsSerializer(alerts.alert_settings_global(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(AlertSettingsSerializer(data.save()).data)


class FlowAlertSettingsView(APIView):
    """One flow's failure-rate threshold and alert target (its own row, created from the defaults)."""

    serializer_class = AlertSettingsSerializer
    required_roles = {"PUT": "editor", "PATCH": "editor"}

    @extend_schema(responses={200: AlertSettingsSerializer})
    def get(self, request, flow_id: int):
        flow = get_object_or_404(Flow, pk=flow_id)
        own = AlertSettings.objects.filter(flow=flow).first()
        data = AlertSettingsSerializer(own or alerts.alert_settings_global()).data
        return Response({**data, "flow": flow.pk, "inherited": own is None})

    @extend_schema(request=AlertSettingsSerializer, responses={200: AlertSettingsSerializer})
    def patch(self, request, flow_id: int):
        flow = get_object_or_404(Flow, pk=flow_id)
        own = AlertSettings.objects.filter(flow=flow).first()
        if own is None:
            defaults = alerts.alert_settings_global()
            own = AlertSettings(flow=flow, failure_rate_enabled=defaults.failure_rate_enabled,
                                failure_rate_threshold=defaults.failure_rate_threshold,
                                failure_min_runs=defaults.failure_min_runs)
        data = AlertSettingsSerializer(own, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        saved = data.save(flow=flow)
        return Response({**AlertSettingsSerializer(saved).data, "inherited": False})
