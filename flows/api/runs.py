"""Runs API: the Runs page (filters, cursor pages), one run with everything the run view shows,
and operators' actions (cancel, retry, restart; one run or a filtered selection)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from core.errors import error_response
from core.secrets import SecretsMaskedMixin, secrets_mask
from flows import run_actions, selectors
from flows.models import FlowRun, RunActionBatch


class RunFilterSerializer(serializers.Serializer):
    """The Runs page's filters (query string for the list; JSON body for bulk actions)."""

    flow = serializers.IntegerField(required=False, min_value=1)
    status = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                   help_text="One status or several separated by commas: " + ", ".join(FlowRun.Status.values))
    since = serializers.DateTimeField(required=False, help_text="Started at or after (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Started before (ISO 8601).")
    contact = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                    help_text="Part of the contact's phone number or name.")
    has_error = serializers.BooleanField(required=False, default=False,
                                         help_text="Failed runs and runs with a step that hit an error.")
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Text in the end reason.")
    tests = serializers.BooleanField(required=False, default=False, help_text="Test runs only (else real runs only).")
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)

    def validate_status(self, value: str) -> list[str]:
        statuses = [s.strip() for s in (value or "").split(",") if s.strip()]
        unknown = [s for s in statuses if s not in FlowRun.Status.values]
        if unknown:
            raise serializers.ValidationError(
                f"unknown status {', '.join(unknown)}; use {', '.join(FlowRun.Status.values)}")
        return statuses

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["must be after 'since'"]})
        return attrs


def _parse_filters(data) -> dict:
    parsed = RunFilterSerializer(data=data)
    parsed.is_valid(raise_exception=True)
    return {k: v for k, v in parsed.validated_data.items() if v not in (None, "", [], False)}


class RunRowSerializer(SecretsMaskedMixin, serializers.ModelSerializer):
    flow = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    revision = serializers.IntegerField(source="revision.revision", read_only=True)

    class Meta:
        model = FlowRun
        fields = ["id", "flow", "revision", "contact", "status", "current_node", "wait_kind", "wake_at", "is_test",
                  "step_count", "end_reason", "started_at", "ended_at"]

    def get_flow(self, run) -> dict:
        return {"id": run.flow_id, "name": run.flow.name}

    def get_contact(self, run) -> dict:
        return {"id": run.contact_id, "phone": run.contact.phone, "name": run.contact.name}


class RunPagination(CursorPagination):
    """Newest first, cursor pages: no OFFSET and no COUNT, so a page costs the same on run 1,000,000."""

    ordering = "-id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class RunActionSerializer(serializers.Serializer):
    use_published = serializers.BooleanField(
        required=False, default=True,
        help_text="Retry/restart on the flow's published revision (when it has the step), else on the run's own.")


class BulkActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["cancel", "retry", "restart"])
    filters = serializers.DictField(required=False, default=dict)
    use_published = serializers.BooleanField(required=False, default=True)
    dry_run = serializers.BooleanField(required=False, default=False,
                                       help_text="Only count the runs the action would take (to confirm first).")


class ActionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    action = serializers.CharField()
    state = serializers.CharField()
    requested_by = serializers.CharField(allow_null=True)
    requested_at = serializers.DateTimeField()


def _refused(exc: run_actions.ActionRefused) -> Response:
    return error_response(exc.code, exc.message, http_status=status.HTTP_409_CONFLICT)


FILTER_PARAMETERS = [
    OpenApiParameter("flow", int), OpenApiParameter("status", str), OpenApiParameter("since", str),
    OpenApiParameter("until", str), OpenApiParameter("contact", str), OpenApiParameter("has_error", bool),
    OpenApiParameter("q", str), OpenApiParameter("tests", bool), OpenApiParameter("cursor", str),
    OpenApiParameter("page_size", int),
]


class RunViewSet(viewsets.GenericViewSet):
    """Runs, newest first. Viewers read; editors cancel, retry and restart; admins act in bulk."""

    serializer_class = RunRowSerializer
    pagination_class = RunPagination
    required_roles = {"list": "viewer", "retrieve": "viewer", "cancel": "editor", "retry": "editor",
                      "restart": "editor", "bulk": "admin", "batch": "viewer"}

    def get_queryset(self):
        return selectors.run_list_rows(FlowRun.objects.all())

    @extend_schema(parameters=FILTER_PARAMETERS, responses={200: RunRowSerializer(many=True)})
    def list(self, request):
        filters = _parse_filters(request.query_params)
        page = self.paginate_queryset(selectors.run_list_rows(selectors.runs_filtered(filters)))
        return self.get_paginated_response(RunRowSerializer(page, many=True).data)

    @extend_schema(responses={200: dict})
    def retrieve(self, request, pk=None):
        detail = selectors.run_detail(run_id=int(pk)) if str(pk).isdigit() else None
        if detail is None:
            return error_response("not_found", "No such run.", http_status=404)
        return Response(secrets_mask(detail))  # second line of defence: stored data is masked already

    def _act(self, request, pk, name: str) -> Response:
        run = get_object_or_404(FlowRun.objects.select_related("contact"), pk=pk)
        options = RunActionSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        try:
            record = run_actions.run_action_request(run=run, action=name, user=request.user,
                                                    options=options.validated_data)
        except run_actions.ActionRefused as exc:
            return _refused(exc)
        return Response(selectors.run_action_as_dict(record), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RunActionSerializer, responses={202: ActionResultSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a waiting (or active) run, in order with its contact's events."""
        return self._act(request, pk, "cancel")

    @extend_schema(request=RunActionSerializer, responses={202: ActionResultSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Run a failed run's failed step again and go on from there."""
        return self._act(request, pk, "retry")

    @extend_schema(request=RunActionSerializer, responses={202: ActionResultSerializer})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        """Start the flow again for the contact with the run's trigger data (a new run)."""
        return self._act(request, pk, "restart")

    @extend_schema(request=BulkActionSerializer, responses={202: dict})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """The same action on every eligible run matching ``filters`` (the Runs page's filters)."""
        data = BulkActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filters = _parse_filters(data.validated_data["filters"])
        try:
            if data.validated_data["dry_run"]:
                total = run_actions.run_action_batch_count(action=data.validated_data["action"], filters=filters)
                return Response({"action": data.validated_data["action"], "total": total})
            batch = run_actions.run_action_batch_request(
                action=data.validated_data["action"], filters=_jsonable(filters), user=request.user,
                options={"use_published": data.validated_data["use_published"]})
        except run_actions.ActionRefused as exc:
            return _refused(exc)
        return Response(_batch_as_dict(batch), status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"], url_path=r"batches/(?P<batch_id>\d+)")
    def batch(self, request, batch_id=None):
        """How far a bulk action got: runs recorded, and how many were applied or ignored so far."""
        return Response(_batch_as_dict(get_object_or_404(RunActionBatch, pk=batch_id)))


def _jsonable(filters: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items()}


def _batch_as_dict(batch: RunActionBatch) -> dict:
    from django.db.models import Count

    states = dict(batch.actions.values_list("state").annotate(n=Count("id")))
    return {"id": batch.pk, "action": batch.action, "total": batch.total, "recorded": batch.recorded,
            "states": states, "requested_at": batch.requested_at.isoformat(),
            "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
            "requested_by": batch.requested_by.username if batch.requested_by else None,
            "now": timezone.now().isoformat()}
