"""Flows API views: parse, call one service, serialize."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not a 500
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import error_response
from core.filters import choice_param, int_param, text_param
from core.permissions import user_roles
from core.schema import LIST_OF_OBJECTS
from core.secrets import secrets_mask
from core.throttling import LoginIPThrottle, LoginUsernameThrottle
from flows import drafts, publishing, selectors, services, testruns
from flows.api import serializers as s
from flows.diff import definition_diff, diff_summary
from flows.models import Flow, TestRun
from flows.nodes import registry


def _stale_response(exc: services.StaleRevision) -> Response:
    latest = exc.latest
    return error_response(
        "stale_revision",
        f"Someone saved revision {latest.revision} after the one you edited; reload to see it.",
        http_status=status.HTTP_409_CONFLICT,
        current_revision=latest.revision,
        current_saves=latest.saves,
        author=latest.author.username if latest.author else None,
        author_id=latest.author_id,
        session=latest.session,
        saved_at=(latest.updated_at or latest.created_at).isoformat(),
    )


def _invalid_definition(exc: services.InvalidDefinition) -> Response:
    return error_response("invalid_definition", exc.message, details={"definition": [exc.message]})


# --- Session ------------------------------------------------------------------------------------


class LanguageSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=["pt-BR", "en"])


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


def session_payload(request) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {"authenticated": False, "user": None}
    language = request.session.get("fluxo_language")
    if language is None:
        from flows.models import UserPreference

        pref = UserPreference.objects.filter(user=user).first()
        language = pref.language if pref else "pt-BR"
    return {"authenticated": True, "user": {"id": user.pk, "username": user.username, "first_name": user.first_name,
                                            "language": language, "roles": sorted(user_roles(user)),
                                            "is_staff": user.is_staff}}


class SessionView(APIView):
    """The signed-in user (or none), their language and roles. Always sets the CSRF cookie."""

    permission_classes = [AllowAny]
    serializer_class = LanguageSerializer

    @extend_schema(responses={200: dict})
    def get(self, request):
        response = Response(session_payload(request))
        return response

    @extend_schema(request=LanguageSerializer, responses={200: dict})
    def patch(self, request):
        if not request.user.is_authenticated:
            return error_response("not_authenticated", _("Sign in first."), http_status=401)
        data = LanguageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_language_set(user=request.user, language=data.validated_data["language"])
        request.session["fluxo_language"] = data.validated_data["language"]
        return Response(session_payload(request))

    @classmethod
    def as_view(cls, **kwargs):
        return ensure_csrf_cookie(super().as_view(**kwargs))


def _credentials_user(request):
    """The user named by the request's username and password, or None (raises on a malformed body)."""
    data = LoginSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])


class SignInThrottled:
    """Throttles of the sign-in endpoints (core/throttling.py), and their 429 in the error shape."""

    throttle_classes = [LoginIPThrottle, LoginUsernameThrottle]

    def throttled(self, request, wait):
        seconds = int(wait or 0) + 1 if wait else 60
        exc = Throttled(None, detail=_("Too many sign-in attempts. Wait %(seconds)d seconds and try again.")
                        % {"seconds": seconds})
        exc.wait = seconds  # the Retry-After header (our message already says how long)
        exc.extra = {"retry_after": seconds}
        raise exc


def _csrf_refusal(request) -> Response | None:
    """The session sign-in needs the CSRF token like any other unsafe call from a browser: a page on
    another site must not sign a visitor in (login CSRF). DRF views skip Django's check for
    anonymous callers, so it is made here, as ``SessionAuthentication`` makes it for signed-in ones."""
    from rest_framework.authentication import CSRFCheck

    check = CSRFCheck(lambda _request: None)
    check.process_request(request._request)
    reason = check.process_view(request._request, None, (), {})
    if reason:
        return error_response("csrf_failed", _("Security check failed (CSRF): reload the page and sign in again."),
                              details={"reason": str(reason)}, http_status=403)
    return None


def _wrong_credentials() -> Response:
    message = _("Wrong username or password.")
    return error_response("invalid_credentials", message, details={"password": [message]})


class LoginView(SignInThrottled, APIView):
    permission_classes = [AllowAny]
    serializer_class = LoginSerializer

    @extend_schema(request=LoginSerializer, responses={200: dict})
    def post(self, request):
        refused = _csrf_refusal(request)
        if refused is not None:
            return refused
        user = _credentials_user(request)
        if user is None:
            return _wrong_credentials()
        login(request, user)
        return Response(session_payload(request))


class TokenView(SignInThrottled, APIView):
    """Exchange a username and password for the user's API token (for outside systems).

    Send it as ``Authorization: Token <key>``; roles apply as for the browser session.
    """

    permission_classes = [AllowAny]
    serializer_class = LoginSerializer

    @extend_schema(request=LoginSerializer, responses={200: dict})
    def post(self, request):
        from rest_framework.authtoken.models import Token

        user = _credentials_user(request)
        if user is None:
            return _wrong_credentials()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "roles": sorted(user_roles(user))})


class LogoutView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Node types -----------------------------------------------------------------------------------


class NodeTypeList(APIView):
    @extend_schema(responses={200: LIST_OF_OBJECTS})
    def get(self, request):
        return Response([t.describe() for t in registry.all_types()])


# --- Flows ------------------------------------------------------------------------------------------


class FlowViewSet(viewsets.GenericViewSet):
    serializer_class = s.FlowSerializer
    queryset = Flow.objects.all()

    def get_queryset(self):
        params = self.request.query_params
        return selectors.flow_list(search=text_param(params, "search", default=""),
                                   status=choice_param(params, "status", Flow.Status.values, default=""))

    def get_object(self):
        return get_object_or_404(Flow.objects.select_related("published_revision"), pk=self.kwargs["pk"])

    @extend_schema(parameters=[
        OpenApiParameter("search", str, description="Text in the name or the description"),
        OpenApiParameter("status", str, enum=Flow.Status.values, description="Default: every flow but archived ones"),
    ])
    def list(self, request):
        return Response(s.FlowSerializer(self.get_queryset(), many=True).data)

    @extend_schema(request=s.FlowCreateSerializer, responses={201: s.FlowDetailSerializer})
    def create(self, request):
        data = s.FlowCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            flow = services.flow_create(author=request.user, **data.validated_data)
        except services.InvalidDefinition as exc:
            return _invalid_definition(exc)
        return Response(s.FlowDetailSerializer(flow).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.FlowDetailSerializer})
    def retrieve(self, request, pk=None):
        return Response(s.FlowDetailSerializer(self.get_object()).data)

    @extend_schema(request=s.FlowSerializer, responses={200: s.FlowDetailSerializer})
    def partial_update(self, request, pk=None):
        flow = self.get_object()
        data = s.FlowSerializer(flow, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        return Response(s.FlowDetailSerializer(flow).data)

    @extend_schema(request=None, responses={200: s.FlowSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return Response(s.FlowSerializer(services.flow_set_status(flow=self.get_object(), status=Flow.Status.ARCHIVED)).data)

    @extend_schema(request=None, responses={200: s.FlowSerializer})
    @action(detail=True, methods=["post"])
    def unarchive(self, request, pk=None):
        return Response(s.FlowSerializer(services.flow_set_status(flow=self.get_object(), status=Flow.Status.ACTIVE)).data)

    @extend_schema(request=None, responses={201: s.FlowDetailSerializer})
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        flow = services.flow_duplicate(flow=self.get_object(), author=request.user)
        return Response(s.FlowDetailSerializer(flow).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        return Response(services.flow_export(flow=self.get_object()))

    @extend_schema(request=s.ImportSerializer, responses={201: s.FlowDetailSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_(self, request):
        data = s.ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            flow = services.flow_import(document=data.validated_data, author=request.user)
        except services.InvalidDefinition as exc:
            return _invalid_definition(exc)
        return Response(s.FlowDetailSerializer(flow).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ValidateSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        """Errors, warnings (incl. the WhatsApp policy), variables in scope, and same-event conflicts."""
        flow = self.get_object()
        data = s.ValidateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result, conflicts = publishing.flow_check(flow=flow, definition=data.validated_data["definition"])
        return Response({**result.as_dict(), "conflicts": conflicts})

    @extend_schema(request=s.PublishSerializer, responses={200: s.FlowSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        data = s.PublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flow = self.get_object()
        if not flow.revisions.filter(revision=data.validated_data["revision"]).exists():
            return error_response("not_found", "No such revision.", http_status=404)
        try:
            flow = publishing.flow_publish_checked(
                flow=flow, revision_number=data.validated_data["revision"], comment=data.validated_data["comment"],
                user=request.user, accept_warnings=data.validated_data["accept_warnings"],
                decisions=data.validated_data["decisions"])
        except services.InvalidFlow as exc:
            return error_response("invalid_flow", "The flow has problems; fix them before publishing.",
                                  errors=[i.as_dict() for i in exc.issues])
        except publishing.NeedsConfirmation as exc:
            return error_response("confirmation_required",
                                  "Confirm the warnings (and choose for each flow on the same event) to publish.",
                                  http_status=status.HTTP_409_CONFLICT,
                                  warnings=[i.as_dict() for i in exc.warnings], conflicts=exc.conflicts)
        return Response(s.FlowSerializer(flow).data)

    @extend_schema(request=s.TestRunStartSerializer, responses={201: s.TestRunSerializer})
    @action(detail=True, methods=["post"], url_path="test-runs")
    def test_runs(self, request, pk=None):
        data = s.TestRunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flow = self.get_object()
        number = data.validated_data.get("revision")
        if number and not flow.revisions.filter(revision=number).exists():
            return error_response("not_found", "No such revision.", http_status=404)
        try:
            contact = None
            if data.validated_data.get("contact_id"):
                from messaging.models import Contact

                contact = get_object_or_404(Contact, pk=data.validated_data["contact_id"], is_test=True)
            elif data.validated_data.get("contact"):
                contact = testruns.test_contact_create(user=request.user, **data.validated_data["contact"])
            test = testruns.test_run_start(flow=flow, revision_number=number, contact=contact,
                                           payload=data.validated_data.get("payload"), user=request.user)
        except services.InvalidDefinition as exc:
            return _invalid_definition(exc)
        except testruns.TestContactError as exc:
            return error_response("invalid_test_contact", exc.message["en"], details={exc.field: [exc.message["en"]]},
                                  messages=exc.message)
        return Response(s.TestRunSerializer(test).data, status=status.HTTP_201_CREATED)


class RevisionViewSet(viewsets.GenericViewSet):
    serializer_class = s.RevisionSerializer
    lookup_field = "revision"

    def flow(self) -> Flow:
        return get_object_or_404(Flow, pk=self.kwargs["flow_pk"])

    def get_queryset(self):
        return self.flow().revisions.select_related("author", "flow").order_by("-revision")

    def list(self, request, flow_pk=None):
        revisions = list(self.get_queryset()[:200])
        diffs = {}
        for newer, older in zip(revisions, [*revisions[1:], None], strict=True):
            diffs[newer.pk] = diff_summary(definition_diff(older.definition if older else None, newer.definition))
        publications: dict[int, list] = {}
        from flows.models import FlowPublication

        for publication in (FlowPublication.objects.filter(revision__in=[r.pk for r in revisions])
                            .select_related("published_by").order_by("-id")):
            publications.setdefault(publication.revision_id, []).append(publication)
        context = {"diffs": diffs, "publications": publications}
        return Response(s.RevisionSerializer(revisions, many=True, context=context).data)

    @extend_schema(responses={200: s.RevisionDetailSerializer},
                   parameters=[OpenApiParameter("compare", int, description="Revision number to diff against "
                                                "(default: the previous one)")])
    def retrieve(self, request, flow_pk=None, revision=None):
        found = get_object_or_404(self.get_queryset(), revision=revision)
        data = s.RevisionDetailSerializer(found).data
        compare = int_param(request.query_params, "compare", min_value=1, max_value=2**31 - 1)
        other = (self.get_queryset().filter(revision=compare).first() if compare is not None
                 else self.get_queryset().filter(revision__lt=found.revision).first())
        data["diff_full"] = definition_diff(other.definition if other else None, found.definition)
        data["compared_with"] = other.revision if other else None
        return Response(data)

    @extend_schema(request=s.RevisionSaveSerializer, responses={201: s.RevisionDetailSerializer})
    def create(self, request, flow_pk=None):
        data = s.RevisionSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        session, base_saves, checkpoint = values.pop("session"), values.pop("base_saves"), values.pop("checkpoint")
        try:
            if session:
                revision = drafts.revision_autosave(flow=self.flow(), author=request.user, session=session,
                                                    base_saves=base_saves, checkpoint=checkpoint, **values)
            else:
                revision = services.flow_revision_save(flow=self.flow(), author=request.user, **values)
        except services.StaleRevision as exc:
            return _stale_response(exc)
        except services.InvalidDefinition as exc:
            return _invalid_definition(exc)
        return Response(s.RevisionDetailSerializer(revision).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RestoreSerializer, responses={201: s.RevisionDetailSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, flow_pk=None, revision=None):
        data = s.RestoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flow = self.flow()
        get_object_or_404(flow.revisions, revision=revision)
        try:
            new = services.flow_revision_restore(flow=flow, revision_number=int(revision),
                                                 base_revision=data.validated_data["base_revision"], author=request.user)
        except services.StaleRevision as exc:
            return _stale_response(exc)
        return Response(s.RevisionDetailSerializer(new).data, status=status.HTTP_201_CREATED)


class TestRunViewSet(viewsets.GenericViewSet):
    """A Test run is read and driven by its starter and by admins (``selectors.test_runs_visible``)."""

    serializer_class = s.TestRunSerializer
    queryset = TestRun.objects.select_related("contact", "revision", "flow")

    def get_queryset(self):
        return selectors.test_runs_visible(user=self.request.user).select_related("contact", "revision", "flow")

    @extend_schema(responses={200: dict})
    def retrieve(self, request, pk=None):
        return Response(secrets_mask(selectors.test_run_snapshot(test=self.get_object())))

    @extend_schema(request=s.TestRunInboundSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def inbound(self, request, pk=None):
        data = s.TestRunInboundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        test = self.get_object()
        if test.status != TestRun.Status.OPEN:
            return error_response("test_run_stopped", "This test run was stopped; start a new one.", http_status=409)
        event = testruns.test_run_inbound(test=test, **data.validated_data)
        return Response({"event_id": event.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request={"multipart/form-data": s.TestRunInboundFileSerializer}, responses={202: dict})
    @action(detail=True, methods=["post"], url_path="inbound-file",
            parser_classes=[MultiPartParser, FormParser])
    def inbound_file(self, request, pk=None):
        """The customer sends a photo or a document (multipart ``file``, ``caption``)."""
        from messaging.media import MediaRefused

        data = s.TestRunInboundFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        test = self.get_object()
        if test.status != TestRun.Status.OPEN:
            return error_response("test_run_stopped", "This test run was stopped; start a new one.", http_status=409)
        try:
            event = testruns.test_run_inbound_media(test=test, upload=data.validated_data["file"],
                                                    caption=data.validated_data.get("caption", ""))
        except MediaRefused as exc:
            return error_response(exc.code, exc.message, details={"file": [exc.message]})
        return Response({"event_id": event.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"], url_path="fast-forward")
    def fast_forward(self, request, pk=None):
        fired = testruns.test_run_fast_forward(test=self.get_object())
        if not fired:
            return error_response("nothing_to_fast_forward", "The run is not waiting on a delay or a timeout.",
                                  http_status=409)
        return Response({"fired": True}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: s.TestRunSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return Response(s.TestRunSerializer(testruns.test_run_stop(test=self.get_object())).data)


