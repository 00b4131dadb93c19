"""HTTP views outside the REST API: Meta's webhook endpoint and the sandbox phone page. Thin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.parsers import BadJSON, json_loads_safe
from messaging import selectors
from messaging.ingest import (
    PayloadTooLarge,
    SignatureInvalid,
    SignatureMissing,
    max_body_bytes,
    verify_token_matches,
    webhook_receive,
)
from messaging.models import Message


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    """GET: Meta's verification handshake. POST: a signed update, stored first, answered at once."""
    if request.method == "GET":
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        if mode == "subscribe" and verify_token_matches(token):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden("verification failed")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_body_bytes():
        return HttpResponse("payload too large", status=413, content_type="text/plain")
    try:
        webhook_receive(body=request.read(max_body_bytes() + 1), signature=request.headers.get("X-Hub-Signature-256"))
    except PayloadTooLarge:
        return HttpResponse("payload too large", status=413, content_type="text/plain")
    except SignatureMissing:
        return HttpResponse("missing X-Hub-Signature-256", status=401, content_type="text/plain")
    except SignatureInvalid:
        return HttpResponseForbidden("invalid signature")
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


# --- Sandbox phone ----------------------------------------------------------------------------


def _viewer_required(view):
    """The sandbox shows phones and conversations: a role is needed, as for the API (a signed-in user
    with no role gets 403 there too). Watching needs ``viewer``; playing a customer needs ``editor``."""
    from functools import wraps

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        from core.permissions import has_role

        if not has_role(request.user, "viewer"):
            message = _("Your role does not allow this action.")
            if request.path.startswith("/sandbox/api/"):
                return JsonResponse({"error": message}, status=403)
            return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


@_viewer_required
def sandbox_page(request: HttpRequest) -> HttpResponse:
    contacts = selectors.sandbox_contacts()
    strings = {"template": _("template"), "addFailed": _("could not add the contact"),
               "mediaMissing": _("file not available"), "document": _("document"),
               "mediaPending": _("fetching the file…"),
               "uploadFailed": _("could not send the file"),
               **{f"status.{value}": str(label) for value, label in Message.Status.choices}}
    return render(request, "messaging/sandbox.html", {"contacts": contacts, "strings": strings})


@_viewer_required
@require_http_methods(["GET"])
def sandbox_messages(request: HttpRequest) -> JsonResponse:
    """The chat of one sandbox contact since message id ``after`` (the page polls this)."""
    contact = selectors.sandbox_contact(contact_id=request.GET.get("contact"))
    if contact is None:
        return JsonResponse({"error": _("unknown sandbox contact")}, status=404)
    after = request.GET.get("after") or "0"
    if not after.isascii() or not after.isdigit() or len(after) > 18:
        return JsonResponse({"error": _("after must be a message id (a whole number)")}, status=400)
    after = int(after)
    return JsonResponse({"contact": selectors.contact_card(contact),
                         "messages": selectors.sandbox_chat(contact=contact, after=after)})


def _json_object(request: HttpRequest) -> dict:
    """The body as a JSON object (the safe loader: no NUL, lone surrogate, 1e999 or deep nesting), else ValueError."""
    try:
        data = json_loads_safe(request.body or b"{}")
    except BadJSON as exc:
        raise ValueError(_("invalid JSON: %(error)s") % {"error": exc}) from exc
    if not isinstance(data, dict):
        raise ValueError(_("the body must be a JSON object"))
    return data


def _text(data: dict, key: str) -> str:
    """A text field of the body ("" when absent); a number is taken as its digits, a list or an object refused."""
    value = data.get(key, "")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(_("%(field)s must be text") % {"field": key})
    return str(value)


def _may_play(request: HttpRequest) -> bool:
    """Playing a customer starts flows: the editor role (the same as running a test)."""
    from core.permissions import has_role

    return has_role(request.user, "editor")


@_viewer_required
@require_http_methods(["POST"])
def sandbox_send(request: HttpRequest) -> JsonResponse:
    """The person typed text, tapped a reply button or picked a list row."""
    if not _may_play(request):
        return JsonResponse({"error": _("your role cannot play customers (editor needed)")}, status=403)
    from messaging.webhooks import sandbox_inbound_submit

    try:
        data = _json_object(request)
        fields = {name: _text(data, key) for name, key in [
            ("text", "text"), ("reply_id", "reply_id"), ("reply_title", "reply_title"), ("reply_kind", "reply_kind"),
            ("context_message_id", "context")]}
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    contact = selectors.sandbox_contact(contact_id=data.get("contact"))
    if contact is None:
        return JsonResponse({"error": _("unknown sandbox contact")}, status=404)
    try:
        delivery = sandbox_inbound_submit(contact=contact, **fields)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"delivery": delivery.pk}, status=202)


@_viewer_required
@require_http_methods(["POST"])
def sandbox_contact_create(request: HttpRequest) -> JsonResponse:
    """Add a customer to play on the sandbox channel."""
    if not _may_play(request):
        return JsonResponse({"error": _("your role cannot add sandbox contacts (editor needed)")}, status=403)
    from messaging.phones import InvalidPhone
    from messaging.services import sandbox_contact_create as create

    try:
        data = _json_object(request)
        contact = create(phone=_text(data, "phone"), name=_text(data, "name"))
    except (ValueError, InvalidPhone) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(selectors.contact_card(contact), status=201)


@login_required
@require_http_methods(["POST"])
def sandbox_upload(request: HttpRequest) -> JsonResponse:
    """The person sends a photo or a document as the customer (multipart: ``contact``, ``file``, ``caption``)."""
    if not _may_play(request):
        return JsonResponse({"error": _("your role cannot play customers (editor needed)")}, status=403)
    from messaging.media import MediaRefused
    from messaging.webhooks import sandbox_media_submit

    contact = selectors.sandbox_contact(contact_id=request.POST.get("contact"))
    if contact is None:
        return JsonResponse({"error": _("unknown sandbox contact")}, status=404)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": _("choose a file to send")}, status=400)
    try:
        delivery = sandbox_media_submit(contact=contact, upload=upload, caption=request.POST.get("caption", ""))
    except MediaRefused as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=400)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"delivery": delivery.pk}, status=202)


# --- Media files ------------------------------------------------------------------------------


def _serve_media(request: HttpRequest, media_id: int) -> HttpResponse:
    from django.core.files.storage import default_storage

    from messaging.media import media_fetch
    from messaging.models import MediaFile

    media = MediaFile.objects.filter(pk=media_id).first()
    if media is None:
        raise Http404(_("no such file"))
    if media.status == MediaFile.Status.PENDING:
        # Not downloaded yet (the task is behind): fetch it now, with a short deadline.
        media_fetch(media_id=media.pk, deadline_seconds=20)
        media.refresh_from_db()
    if media.status != MediaFile.Status.STORED or not media.file:
        reason = media.error or _("the file is not available")
        return JsonResponse({"error": reason, "status": media.status}, status=410 if media.status == "expired" else 404)
    handle = default_storage.open(media.file.name, "rb")
    download = request.GET.get("download") == "1"
    response = FileResponse(handle, content_type=media.mime_type or "application/octet-stream",
                            as_attachment=download, filename=media.filename or media.name or "")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@require_http_methods(["GET"])
def media_file(request: HttpRequest, token: str) -> HttpResponse:
    """A file behind a signed, expiring link (``{{trigger.media.url}}``): the token is the credential."""
    from messaging.media import media_token_read

    media_id = media_token_read(token)
    if media_id is None:
        return JsonResponse({"error": _("this link is invalid or expired")}, status=403)
    return _serve_media(request, media_id)


@login_required
@require_http_methods(["GET"])
def media_file_by_id(request: HttpRequest, pk: int) -> HttpResponse:
    """A file for a signed-in user (the media library's preview and download)."""
    return _serve_media(request, pk)
