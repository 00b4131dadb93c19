"""Media in and out: WhatsApp's limits, received files, the media library, signed links, retention.

* **Received** (``direction=in``): the inbound drain records the message and a ``pending``
  :class:`~messaging.models.MediaFile` under the contact's lock (database only); after commit a task
  on the ``calls`` queue (:func:`media_fetch`) looks the media id up on the Graph API, streams the
  file with the channel's token (size-capped, timeouts), checks it against WhatsApp's limits and
  stores it through ``default_storage``. Errors are retried with backoff, then recorded
  (``failed`` + reason); the contact's next events never wait for it.
* **Library** (``direction=library``): files people upload (``/api/media/``), sent by the
  ``send_media`` node and as template header media. A send names the file
  (``{"fluxo_media": <id>}`` in the message content); the sender resolves it just before the HTTP
  request, outside any transaction (:func:`content_resolve`): uploaded to the channel's number once,
  the media id reused until it expires.
* **Links**: flows see ``{{trigger.media.url}}``, a signed, expiring Fluxo URL (``django.core.signing``)
  served by ``messaging.views.media_file``; a signed-in user needs no token.
* **Retention**: :func:`media_retention_prune` deletes received files' bytes after
  ``FLUXO_MEDIA_RETENTION_DAYS``; the row (and the message) keep the metadata.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from messaging.models import Channel, MediaFile, MediaUpload, Message

logger = logging.getLogger(__name__)

MB = 1024 * 1024
KB = 1024

# WhatsApp's limits per media type (Meta's "Supported media types"). Stickers: 100 KB static, 500 KB animated.
DOCUMENT_TYPES = frozenset({
    "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})
LIMITS: dict[str, tuple[int, frozenset[str]]] = {
    "image": (5 * MB, frozenset({"image/jpeg", "image/png"})),
    "audio": (16 * MB, frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})),
    "video": (16 * MB, frozenset({"video/mp4", "video/3gpp"})),
    "document": (100 * MB, DOCUMENT_TYPES),
    "sticker": (500 * KB, frozenset({"image/webp"})),
}
STATIC_STICKER_MAX = 100 * KB
KINDS = tuple(LIMITS)
UPLOAD_LIFETIME = timedelta(days=29)  # Meta keeps an uploaded media id 30 days; renew a day early
SALT = "fluxo.media.link"


class MediaRefused(ValueError):
    """A file WhatsApp would not take (type or size). ``message`` says what and the limit."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def bare_mime(mime_type: str) -> str:
    """``audio/ogg; codecs=opus`` → ``audio/ogg``."""
    return (mime_type or "").split(";")[0].strip().lower()


def max_bytes(kind: str, *, animated: bool = True) -> int:
    if kind == "sticker" and not animated:
        return STATIC_STICKER_MAX
    return LIMITS[kind][0]


def media_check(*, kind: str, mime_type: str, size: int | None, animated: bool = True) -> None:
    """Raise :class:`MediaRefused` when WhatsApp's limits for ``kind`` refuse this type or size."""
    if kind not in LIMITS:
        raise MediaRefused(f"unknown media type {kind!r}; use one of {', '.join(KINDS)}", code="media_kind")
    allowed = LIMITS[kind][1]
    mime = bare_mime(mime_type)
    if mime not in allowed:
        raise MediaRefused(f"WhatsApp does not take {mime or 'this file type'} as {kind}; "
                           f"accepted: {', '.join(sorted(allowed))}", code="media_type")
    limit = max_bytes(kind, animated=animated)
    if size is not None and size > limit:
        raise MediaRefused(f"the file has {_human(size)}, WhatsApp takes at most {_human(limit)} for {kind}",
                           code="media_too_large")


def kind_for_mime(mime_type: str) -> str | None:
    """The WhatsApp media type a file of this MIME type is sent as (webp → sticker), or None."""
    mime = bare_mime(mime_type)
    for kind in ("image", "audio", "video", "document", "sticker"):
        if mime in LIMITS[kind][1]:
            return kind
    return None


def _human(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size / KB:.0f} KB"


# --- Signed links ---------------------------------------------------------------------------------


def link_seconds() -> int:
    return int(getattr(settings, "FLUXO_MEDIA_LINK_SECONDS", 7 * 24 * 3600))


def media_token(media: MediaFile) -> str:
    return signing.dumps({"m": media.pk}, salt=SALT, compress=True)


def media_token_read(token: str) -> int | None:
    """The media id a token names, or None when it is forged or older than ``FLUXO_MEDIA_LINK_SECONDS``."""
    try:
        data = signing.loads(token, salt=SALT, max_age=link_seconds())
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return data.get("m") if isinstance(data, dict) and isinstance(data.get("m"), int) else None


def media_url(media: MediaFile) -> str:
    """The signed, expiring link to a file (absolute when ``FLUXO_PUBLIC_URL`` is set)."""
    path = reverse("media-file", kwargs={"token": media_token(media)})
    base = str(getattr(settings, "FLUXO_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def media_facts(media: MediaFile) -> dict[str, Any]:
    """What flows see as ``{{trigger.media.*}}`` and what the sandbox/test chat draws."""
    return {"id": media.pk, "type": media.kind, "url": media_url(media), "mime_type": bare_mime(media.mime_type),
            "filename": media.filename or media.name, "size": media.size, "caption": media.caption,
            "status": media.status}


# --- Received files ------------------------------------------------------------------------------


def media_inbound_record(*, message: Message, channel: Channel, kind: str, media: dict[str, Any]) -> MediaFile:
    """The file of an inbound media message: recorded ``pending`` (or linked, when the sandbox stored it
    already), its download queued after commit. Database only: runs under the contact's lock."""
    provider_id = str(media.get("id") or "")[:128] or None
    existing = MediaFile.objects.filter(provider_media_id=provider_id).first() if provider_id else None
    if existing is not None:
        if existing.message_id is None:
            MediaFile.objects.filter(pk=existing.pk).update(message=message, caption=media.get("caption", ""))
            existing.message_id = message.pk
            existing.caption = media.get("caption", "")
        return existing
    # Meta's media webhooks name no size today; take one if a webhook (or a sender like the sandbox)
    # announces it, so {{trigger.media.size}} is known before the download (the lookup fills it otherwise).
    announced = str(media.get("file_size") or "")
    record = MediaFile.objects.create(
        direction=MediaFile.Direction.INBOUND, kind=kind, channel=channel, message=message,
        size=int(announced) if announced.isdigit() else None,
        provider_media_id=provider_id, mime_type=str(media.get("mime_type") or "")[:128],
        filename=str(media.get("filename") or "")[:255], sha256=str(media.get("sha256") or "")[:128],
        caption=str(media.get("caption") or ""), status=MediaFile.Status.PENDING,
        expires_at=timezone.now() + timedelta(days=retention_days()))
    if provider_id is None:
        MediaFile.objects.filter(pk=record.pk).update(status=MediaFile.Status.FAILED,
                                                      error="the webhook named no media id")
        record.status = MediaFile.Status.FAILED
        return record
    transaction.on_commit(lambda: _queue_fetch(record.pk))
    return record


def _queue_fetch(media_id: int) -> None:
    from messaging.tasks import media_fetch_task

    media_fetch_task.delay(media_id)


@dataclass
class FetchOutcome:
    status: str  # stored | failed | retry | skipped
    error: str = ""


def fetch_attempts() -> int:
    return int(getattr(settings, "FLUXO_MEDIA_FETCH_ATTEMPTS", 5))


def media_fetch(*, media_id: int, final: bool = False, deadline_seconds: float | None = None) -> FetchOutcome:
    """Download a pending received file from the Graph API and store it. Outside any transaction.

    Idempotent: only a ``pending`` row is fetched and only the first writer of a result wins.
    A retryable error answers ``retry`` (the caller backs off) unless ``final``, then ``failed``.
    """
    from messaging.providers.base import ProviderError

    media = MediaFile.objects.filter(pk=media_id).first()
    if media is None or media.status != MediaFile.Status.PENDING:
        return FetchOutcome("skipped")
    MediaFile.objects.filter(pk=media_id).update(attempts=media.attempts + 1)
    channel = Channel.objects.filter(pk=media.channel_id).first()
    if channel is None or channel.provider_key != "whatsapp_cloud":
        return _fetch_failed(media, "the file's channel is gone or cannot download media")
    from messaging.providers.whatsapp_cloud import CloudClient

    client = CloudClient.for_channel(channel)
    deadline = deadline_seconds or float(getattr(settings, "FLUXO_MEDIA_DOWNLOAD_SECONDS", 120))
    try:
        info = client.media_lookup(media.provider_media_id or "")
        mime = bare_mime(info.get("mime_type") or media.mime_type)
        announced = int(info["file_size"]) if str(info.get("file_size") or "").isdigit() else None
        animated = _animated(media)
        media_check(kind=media.kind, mime_type=mime, size=announced, animated=animated)
        if announced is not None:  # known now, before the download ends (or fails and is retried)
            MediaFile.objects.filter(pk=media_id, status=MediaFile.Status.PENDING).update(size=announced)
        with tempfile.SpooledTemporaryFile(max_size=4 * MB) as buffer:
            got = client.media_download(info["url"], buffer, max_bytes=max_bytes(media.kind, animated=animated),
                                        deadline_seconds=deadline)
            expected = info.get("sha256") or media.sha256
            if not sha256_matches(expected, got["sha256"]):
                raise ProviderError("the downloaded file does not match its SHA-256", code="sha256", retryable=True)
            buffer.seek(0)
            name = default_storage.save(media_upload_path(media), File(buffer))
    except MediaRefused as exc:
        return _fetch_failed(media, exc.message)
    except ProviderError as exc:
        if exc.code == "too_large":
            return _fetch_failed(media, exc.message)
        if exc.retryable and not final:
            MediaFile.objects.filter(pk=media_id, status=MediaFile.Status.PENDING).update(error=exc.message[:2000])
            return FetchOutcome("retry", exc.message)
        return _fetch_failed(media, exc.message)
    updated = MediaFile.objects.filter(pk=media_id, status=MediaFile.Status.PENDING).update(
        status=MediaFile.Status.STORED, file=name, mime_type=mime, size=got["size"], sha256=got["sha256"],
        error="", stored_at=timezone.now())
    if not updated:  # someone else stored it first (the on-demand view): drop our copy
        default_storage.delete(name)
        return FetchOutcome("skipped")
    _notify_sandbox(media)
    return FetchOutcome("stored")


def sha256_matches(expected: str, hex_digest: str) -> bool:
    """Whether Meta's hash (hex in some answers, base64 in webhooks) names these bytes; unknown forms pass."""
    import base64
    import binascii

    expected = (expected or "").strip()
    if len(expected) == 64:
        return expected.lower() == hex_digest
    if len(expected) == 44:
        try:
            return base64.b64decode(expected) == bytes.fromhex(hex_digest)
        except (binascii.Error, ValueError):
            return True
    return True


def _animated(media: MediaFile) -> bool:
    if media.kind != "sticker" or media.message_id is None:
        return True
    content = Message.objects.filter(pk=media.message_id).values_list("content", flat=True).first() or {}
    return bool((content.get("sticker") or {}).get("animated", True))


def media_upload_path(media: MediaFile) -> str:
    from messaging.models import media_upload_to

    suffix = PurePosixPath(media.filename or "").suffix or _suffix_for(media.mime_type)
    return media_upload_to(media, f"file{suffix}")


def _suffix_for(mime_type: str) -> str:
    import mimetypes

    return mimetypes.guess_extension(bare_mime(mime_type)) or ""


def _fetch_failed(media: MediaFile, reason: str) -> FetchOutcome:
    MediaFile.objects.filter(pk=media.pk, status=MediaFile.Status.PENDING).update(
        status=MediaFile.Status.FAILED, error=reason[:2000])
    logger.warning("media %s (%s) not stored: %s", media.pk, media.provider_media_id, reason)
    _notify_sandbox(media)
    return FetchOutcome("failed", reason)


def _notify_sandbox(media: MediaFile) -> None:
    if media.message_id is None:
        return
    contact_id = Message.objects.filter(pk=media.message_id).values_list("contact_id", flat=True).first()
    if contact_id is not None:
        from messaging.consumers import sandbox_notify

        sandbox_notify(contact_id)


def media_read(reference: Any) -> tuple[str, bytes, str]:
    """``(filename, bytes, mime type)`` of a file named by its Fluxo link (``{{trigger.media.url}}``) or id.

    A received file still downloading is fetched first (network I/O: outside any transaction).
    Raises :class:`MediaRefused` for an unknown, expired or failed file.
    """
    import re

    text = str(reference or "").strip()
    media_id: int | None = None
    match = re.search(r"/files/f/([^/?#]+)/?", text)
    if match:
        media_id = media_token_read(match.group(1))
    elif text.isdigit():
        media_id = int(text)
    media = MediaFile.objects.filter(pk=media_id).first() if media_id else None
    if media is None:
        raise MediaRefused(f"{text[:80]!r} is not a Fluxo file link (or the link expired)", code="media_missing")
    if media.status == MediaFile.Status.PENDING:
        media_fetch(media_id=media.pk, final=True)
        media.refresh_from_db()
    if media.status != MediaFile.Status.STORED or not media.file:
        raise MediaRefused(f"the file is {media.status}{': ' + media.error if media.error else ''}",
                           code="media_missing")
    with default_storage.open(media.file.name, "rb") as handle:
        content = handle.read()
    return (media.filename or media.name or f"file{_suffix_for(media.mime_type)}", content, bare_mime(media.mime_type))


# --- The library ---------------------------------------------------------------------------------


def media_library_create(*, upload, name: str = "", user=None, kind: str | None = None,
                         direction: str = MediaFile.Direction.LIBRARY, channel: Channel | None = None,
                         provider_media_id: str | None = None, caption: str = "") -> MediaFile:
    """Store an uploaded file (Django ``UploadedFile`` or ``File``) after WhatsApp's checks.

    The kind comes from the MIME type (webp → sticker) unless given. Raises :class:`MediaRefused`.
    """
    mime = bare_mime(getattr(upload, "content_type", "") or "")
    filename = PurePosixPath(str(getattr(upload, "name", "") or "file")).name[:255]
    if not mime:
        import mimetypes

        mime = bare_mime(mimetypes.guess_type(filename)[0] or "")
    kind = kind or kind_for_mime(mime)
    if kind is None:
        raise MediaRefused(f"WhatsApp does not send files of type {mime or 'unknown'}; use an image (JPEG, PNG), "
                           "audio, video (MP4, 3GPP), a document (PDF, Office, text) or a WebP sticker",
                           code="media_type")
    media_check(kind=kind, mime_type=mime, size=upload.size)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    record = MediaFile(direction=direction, kind=kind, name=(name or filename)[:255], filename=filename,
                       mime_type=mime, size=upload.size, sha256=digest.hexdigest(), status=MediaFile.Status.STORED,
                       created_by=user if getattr(user, "is_authenticated", False) else None, channel=channel,
                       provider_media_id=provider_media_id, caption=caption, stored_at=timezone.now())
    if direction == MediaFile.Direction.INBOUND:
        record.expires_at = timezone.now() + timedelta(days=retention_days())
    record.file.save(filename, upload, save=False)
    record.save()
    return record


def media_rename(*, media: MediaFile, name: str) -> MediaFile:
    name = (name or "").strip()
    if not name:
        raise MediaRefused("give the file a name", code="name_required")
    MediaFile.objects.filter(pk=media.pk).update(name=name[:255])
    media.name = name[:255]
    return media


def media_delete(*, media: MediaFile) -> None:
    """Delete a library file and its bytes (flows that still name it fail their send with a reason)."""
    path = media.file.name
    media.delete()
    if path:
        transaction.on_commit(lambda: default_storage.delete(path))


def content_media_ids(content: Any) -> list[int]:
    """Library files a message content or node config names (``{"fluxo_media": id}``), in order."""
    found: list[int] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            ref = value.get("fluxo_media")
            if isinstance(ref, int):
                found.append(ref)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(content)
    return found


def content_resolve(*, content: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """The content to send: each ``{"fluxo_media": id}`` becomes Meta's ``{"id": <media id>}``.

    Network I/O (an upload when the channel has no live media id for the file): call it outside
    any transaction. Raises :class:`MediaRefused` for a deleted file, ``ProviderError`` for Graph errors.
    """
    ids = content_media_ids(content)
    if not ids:
        return content
    resolved = {pk: media_channel_id(media_id=pk, channel=channel) for pk in set(ids)}

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            if isinstance(value.get("fluxo_media"), int):
                rest = {k: swap(v) for k, v in value.items() if k != "fluxo_media"}
                return {"id": resolved[value["fluxo_media"]], **rest}
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return swap(content)


def media_channel_id(*, media_id: int, channel: Channel) -> str:
    """Meta's media id of a library file on this channel: the live upload, or a new one (network I/O)."""
    from messaging.providers.whatsapp_cloud import CloudClient

    now = timezone.now()
    upload = MediaUpload.objects.filter(media_id=media_id, channel_id=channel.pk, expires_at__gt=now).first()
    if upload is not None:
        return upload.provider_media_id
    media = MediaFile.objects.filter(pk=media_id).first()
    if media is None or media.status != MediaFile.Status.STORED or not media.file:
        raise MediaRefused(f"library file {media_id} was deleted or holds no file; pick another in the node",
                           code="media_missing")
    with default_storage.open(media.file.name, "rb") as handle:
        content = handle.read()
    provider_id = CloudClient.for_channel(channel).media_upload(content=content, mime_type=media.mime_type,
                                                                filename=media.filename or media.name)
    MediaUpload.objects.update_or_create(media_id=media_id, channel_id=channel.pk, defaults={
        "provider_media_id": provider_id, "expires_at": now + UPLOAD_LIFETIME})
    return provider_id


# --- Files fetched from a link to send (send_media with a URL, "Fluxo downloads it") -------------

FETCH_MARK = "fluxo_fetch"  # {"document": {"fluxo_fetch": "https://erp/...", "filename": ...}} in a content
OCTET_STREAM = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/x-download",
                          "application/force-download"})


class LinkFetchError(Exception):
    """A file link that could not be fetched. ``retryable``: a timeout, a refused connection, 5xx, 429."""

    def __init__(self, reason: str, *, code: str, retryable: bool = False):
        super().__init__(reason)
        self.reason, self.code, self.retryable = reason, code, retryable


def link_fetch_seconds() -> float:
    return float(getattr(settings, "FLUXO_MEDIA_URL_FETCH_SECONDS", 30))


def link_fetch_attempts() -> int:
    return max(1, int(getattr(settings, "FLUXO_MEDIA_URL_FETCH_ATTEMPTS", 3)))


def content_fetch_links(content: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """``(media kind, link, payload)`` of each file a content names by link (``{"fluxo_fetch": url}``)."""
    found: list[tuple[str, str, dict[str, Any]]] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            if isinstance(value.get(FETCH_MARK), str):
                found.append((key, value[FETCH_MARK], value))
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)

    walk(content, "")
    return found


def message_media_prepare_queue(message: Message) -> None:
    """Queue the fetch of a ``preparing`` message's files after commit (task on the ``calls`` queue)."""
    from messaging.tasks import message_media_prepare_task

    pk = message.pk
    transaction.on_commit(lambda: message_media_prepare_task.delay(pk))


@dataclass
class PrepareOutcome:
    status: str  # ready | retry | failed | skipped
    error: str = ""
    retry_in: float = 0.0


def _prepare_lease() -> timedelta:
    """How long a fetch owns its message: past it, ``messages_requeue_stale`` queues the fetch again."""
    return timedelta(seconds=link_fetch_seconds() * 2 + 60)


def message_media_prepare(*, message_id: int) -> PrepareOutcome:
    """Fetch the files a ``preparing`` outbound message names by link, then let it be sent.

    Network I/O, so outside any transaction and outside the contact's lock (a task on the
    ``calls`` queue; the outbound drain of other contacts never waits for it). Each link is
    fetched through the SSRF guard (``core.httpclient``, the allow-list of ``http_request``),
    capped at WhatsApp's size for the kind, checked for type, and stored as a ``fetched``
    :class:`MediaFile` (the same bytes already stored are reused, so their channel upload is too).
    The file is uploaded to the channel's number here as well, so the drain finds a live media id.
    Then the message becomes ``queued`` (content naming ``{"fluxo_media": id}``) and the drain is
    kicked. Transient errors answer ``retry`` (backoff in ``retry_in``) until
    ``FLUXO_MEDIA_URL_FETCH_ATTEMPTS``; others fail the message with the reason, and the contact's next
    messages go on. Idempotent: only a due ``preparing`` message is claimed (one UPDATE).
    """
    from django.db.models import F

    from core.i18n import run_language

    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status=Message.Status.PREPARING, next_attempt_at__lte=now + timedelta(seconds=1),
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + _prepare_lease())
    if not claimed:
        return PrepareOutcome("skipped")
    message = Message.objects.select_related("contact").filter(pk=message_id).first()
    if message is None:  # its contact was deleted meanwhile
        return PrepareOutcome("skipped")
    with run_language():  # the reasons stored on the message: the installation's language
        from django.utils.translation import gettext

        if message.attempts > link_fetch_attempts():  # earlier tries died with their worker
            return _prepare_failed(message, LinkFetchError(
                gettext("the worker stopped while fetching the file"), code="media_link_lost", retryable=True))
        try:
            resolved = {link: _link_media(kind, link, payload) for kind, link, payload in
                        content_fetch_links(message.content)}
        except LinkFetchError as exc:
            return _prepare_failed(message, exc)
        except Exception as exc:  # noqa: BLE001 - a bug or a full disk must not hold the contact's queue
            logger.exception("message %s: fetching its file failed unexpectedly", message_id)
            return _prepare_failed(message, LinkFetchError(
                gettext("internal error: %(kind)s: %(error)s") % {"kind": type(exc).__name__, "error": exc},
                code="internal", retryable=True))
    content = _swap_links(message.content, resolved)
    _upload_ahead(message, [media for media, _name in resolved.values()])
    updated = Message.objects.filter(pk=message_id, status=Message.Status.PREPARING).update(
        content=content, status=Message.Status.QUEUED, attempts=0, next_attempt_at=None, error_code="", error="")
    if updated:
        from messaging.outbound import outbound_kick
        from messaging.services import sandbox_touch

        outbound_kick(message.contact_id)
        sandbox_touch(Channel.objects.filter(pk=message.channel_id).first(), message.contact_id)
        return PrepareOutcome("ready")
    return PrepareOutcome("skipped")  # failed or cancelled meanwhile


def _prepare_failed(message: Message, exc: LinkFetchError) -> PrepareOutcome:
    from django.utils.translation import gettext, ngettext

    from messaging.services import retry_delay

    if exc.retryable and message.attempts < link_fetch_attempts():
        delay = retry_delay(code="media_link", attempt=message.attempts)
        Message.objects.filter(pk=message.pk, status=Message.Status.PREPARING).update(
            next_attempt_at=timezone.now() + timedelta(seconds=delay), error_code=exc.code,
            error=(gettext("fetching the file from its link failed: %(reason)s") % {"reason": exc.reason})[:2000])
        logger.warning("message %s: file link failed (%s), attempt %s; again in %.1fs",
                       message.pk, exc.code, message.attempts, delay)
        return PrepareOutcome("retry", exc.reason, delay)
    reason = gettext("fetching the file from its link failed: %(reason)s") % {"reason": exc.reason}
    if exc.retryable:
        reason = ngettext("gave up after %(attempts)d attempt: %(error)s",
                          "gave up after %(attempts)d attempts: %(error)s",
                          message.attempts) % {"attempts": message.attempts, "error": reason}
    reason = gettext("not sent: %(reason)s") % {"reason": reason}
    failed = Message.objects.filter(pk=message.pk, status=Message.Status.PREPARING).update(
        status=Message.Status.FAILED, error_code=exc.code, error=reason[:2000], next_attempt_at=None)
    if failed:
        from core.signals import domain_event_emit
        from messaging.outbound import outbound_kick
        from messaging.services import sandbox_touch

        logger.warning("message %s not sent: file link failed (%s)", message.pk, exc.code)
        domain_event_emit(event_type="message.failed",
                          data={"message_id": message.pk, "contact": message.contact.phone})
        outbound_kick(message.contact_id)  # the contact's next messages no longer wait behind it
        sandbox_touch(Channel.objects.filter(pk=message.channel_id).first(), message.contact_id)
    return PrepareOutcome("failed", reason)


def _swap_links(content: Any, resolved: dict[str, tuple[MediaFile, str]], key: str = "") -> Any:
    """Each ``{"fluxo_fetch": link}`` becomes ``{"fluxo_media": <stored file>}``; a document keeps the
    node's file name, else takes the one this fetch found (WhatsApp shows it to the customer)."""
    if isinstance(content, dict):
        if isinstance(content.get(FETCH_MARK), str):
            media, filename = resolved[content[FETCH_MARK]]
            rest = {k: _swap_links(v, resolved, k) for k, v in content.items() if k != FETCH_MARK}
            if key == "document" and not rest.get("filename") and filename:
                rest["filename"] = filename
            return {"fluxo_media": media.pk, **rest}
        return {k: _swap_links(v, resolved, k) for k, v in content.items()}
    if isinstance(content, list):
        return [_swap_links(v, resolved, key) for v in content]
    return content


def _upload_ahead(message: Message, files) -> None:
    """Upload the fetched files to the channel's number now (this task, not the drain, waits for it).
    Best effort: an upload error is left to the drain, which retries, pauses or fails as for any send."""
    from messaging.channel_cache import channel_get
    from messaging.providers.base import ProviderError

    channel = channel_get(message.channel_id) if message.channel_id else None
    if getattr(channel, "provider_key", "") != "whatsapp_cloud":
        return
    for media in files:
        try:
            media_channel_id(media_id=media.pk, channel=channel)
        except (ProviderError, MediaRefused) as exc:
            logger.warning("message %s: uploading fetched file %s ahead failed: %s", message.pk, media.pk, exc)


def link_shown(link: str) -> str:
    """A link as a reason may show it: scheme, host and path, never the query (it may carry a token)."""
    from urllib.parse import urlsplit

    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"[:200]


def _link_media(kind: str, link: str, payload: dict[str, Any]) -> tuple[MediaFile, str]:
    """The stored file behind a link (fetched through the SSRF guard, checked, stored or reused) and
    the file name this fetch gives it (the node's, the server's, or the link's)."""
    import requests
    from django.utils.translation import gettext

    from core.httpclient import BadURL, ResponseTooLarge, TooManyRedirects, describe_error, request
    from core.netguard import BlockedAddress

    if kind not in LIMITS:
        raise LinkFetchError(gettext("unknown media type %(kind)s") % {"kind": kind}, code="media_kind")
    limit = max_bytes(kind)
    seconds = link_fetch_seconds()
    with tempfile.SpooledTemporaryFile(max_size=4 * MB) as buffer:
        try:
            response = request("GET", link, timeout=seconds, max_bytes=limit, sink=buffer,
                               # The types WhatsApp takes first; anything else still answers (and is refused
                               # below with its type named) rather than a bare 406 from a strict server.
                               headers={"Accept": ", ".join([*sorted(LIMITS[kind][1]), "*/*;q=0.1"])})
        except BlockedAddress as exc:
            raise LinkFetchError(str(exc), code="ssrf_blocked") from None
        except (BadURL, TooManyRedirects) as exc:
            raise LinkFetchError(str(exc), code="bad_media_link") from None
        except ResponseTooLarge:
            raise LinkFetchError(gettext("the file is larger than WhatsApp takes for %(kind)s (%(limit)s)")
                                 % {"kind": _kind_label(kind), "limit": _human(limit)},
                                 code="media_too_large") from None
        except requests.Timeout:
            raise LinkFetchError(gettext("%(link)s did not answer within %(seconds)s seconds")
                                 % {"link": link_shown(link), "seconds": f"{seconds:g}"},
                                 code="media_link_timeout", retryable=True) from None
        except requests.RequestException as exc:
            raise LinkFetchError(gettext("%(link)s: %(error)s") % {"link": link_shown(link),
                                                                   "error": describe_error(exc)},
                                 code="media_link_unreachable", retryable=True) from None
        if not response.ok:
            raise LinkFetchError(gettext("%(link)s answered HTTP %(status)s")
                                 % {"link": link_shown(link), "status": response.status},
                                 code=f"media_link_{response.status}",
                                 retryable=response.status >= 500 or response.status in (408, 425, 429))
        size = buffer.tell()
        filename = _link_filename(link, payload, response.headers)
        mime = bare_mime(response.headers.get("content-type", ""))
        if mime in OCTET_STREAM:
            import mimetypes

            mime = bare_mime(mimetypes.guess_type(filename)[0] or mime)
        if mime not in LIMITS[kind][1]:
            raise LinkFetchError(gettext("WhatsApp does not take %(type)s as %(kind)s; accepted: %(accepted)s")
                                 % {"type": mime or gettext("a file of unknown type"), "kind": _kind_label(kind),
                                    "accepted": ", ".join(sorted(LIMITS[kind][1]))}, code="media_type")
        if size == 0:
            raise LinkFetchError(gettext("%(link)s answered an empty file") % {"link": link_shown(link)},
                                 code="media_empty")
        buffer.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: buffer.read(1024 * 1024), b""):
            digest.update(chunk)
        sha = digest.hexdigest()
        # The same bytes, sent as the same kind and type, are the same file: reuse it and its uploads.
        known = MediaFile.objects.filter(direction=MediaFile.Direction.FETCHED, kind=kind, mime_type=mime, sha256=sha,
                                         status=MediaFile.Status.STORED).order_by("-pk").first()
        if known is not None:
            return known, filename
        buffer.seek(0)
        record = MediaFile(direction=MediaFile.Direction.FETCHED, kind=kind, name=filename, filename=filename,
                           mime_type=mime, size=size, sha256=sha, status=MediaFile.Status.STORED,
                           stored_at=timezone.now(), expires_at=timezone.now() + timedelta(days=retention_days()))
        record.file.save(filename, File(buffer, name=filename), save=False)
        record.save()
        return record, filename


def _kind_label(kind: str) -> str:
    return str(MediaFile.Kind(kind).label).lower() if kind in MediaFile.Kind.values else kind


def _link_filename(link: str, payload: dict[str, Any], headers: dict[str, str]) -> str:
    """The file's name: the node's, else the server's (Content-Disposition), else the link's last segment."""
    import re
    from urllib.parse import unquote, urlsplit

    name = str(payload.get("filename") or "").strip()
    if not name:
        match = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", headers.get("content-disposition", ""), re.I)
        name = unquote(match.group(1)).strip() if match else ""
    if not name:
        name = unquote(PurePosixPath(urlsplit(link).path).name)
    return PurePosixPath(name.replace("\\", "/")).name[:255] or "file"


def messages_preparing_requeue(*, now, grace_seconds: float, limit: int = 500) -> int:
    """Queue again the fetch of ``preparing`` messages whose task was lost (a dead worker, a lost
    countdown): due for longer than ``grace_seconds``, or past their lease. Returns how many."""
    from messaging.tasks import message_media_prepare_task

    cutoff = now - timedelta(seconds=grace_seconds)
    stale = list(Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.PREPARING,
                                        next_attempt_at__lt=cutoff).values_list("pk", flat=True)[:limit])
    for pk in stale:
        message_media_prepare_task.delay(pk)
    return len(stale)


# --- Retention -----------------------------------------------------------------------------------


def retention_days() -> float:
    return float(getattr(settings, "FLUXO_MEDIA_RETENTION_DAYS", 90))


def media_retention_prune(*, limit: int = 500) -> int:
    """Delete the bytes of received files past their retention; rows and messages keep the metadata.

    Takes a lock (several schedulers do no harm). Returns how many files were deleted.
    """
    from messaging.services import _lock_acquire

    if not _lock_acquire("media-retention", 300):
        return 0
    now = timezone.now()
    rows = list(MediaFile.objects.filter(direction__in=(MediaFile.Direction.INBOUND, MediaFile.Direction.FETCHED),
                                         expires_at__lte=now)
                .exclude(status=MediaFile.Status.EXPIRED).values_list("pk", "file")[:limit])
    for pk, path in rows:
        if path:
            try:
                default_storage.delete(path)
            except OSError as exc:  # keep going; the next round tries again
                logger.warning("media %s: could not delete %s: %s", pk, path, exc)
                continue
        MediaFile.objects.filter(pk=pk).update(status=MediaFile.Status.EXPIRED, file="",
                                               error="deleted after the retention period")
    return len(rows)


# --- Where a library file is used (flows fill this registry: messaging cannot import them) ---------

_usage_finders: list = []


def media_usage_register(finder) -> None:
    """``finder(media_id) -> [{"flow": id, "name": ..., "nodes": [...], "published": bool}]`` (flows.apps)."""
    if finder not in _usage_finders:
        _usage_finders.append(finder)


def media_used_in(media_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for finder in _usage_finders:
        found.extend(finder(media_id))
    return found
