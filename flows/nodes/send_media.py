"""enviar mídia: an image, document, audio, video or sticker, from the media library or a link, with caption.

A library file goes in the message content as ``{"fluxo_media": <id>}``: the sender uploads it to
the channel's number once and reuses Meta's media id until it expires (``messaging.media``).

A link (an expression: the ERP's invoice PDF) is fetched by Fluxo by default (``fetch: "fluxo"``):
it goes as ``{"fluxo_fetch": <link>}`` and the message waits as ``preparing`` while a task fetches
the file through the SSRF guard (so an ERP behind the VPN, allow-listed, works), checks it, stores
it and uploads it; then it is sent by media id. ``fetch: "meta"`` keeps ``{"link": ...}``, which
Meta fetches itself (public CDNs only). A node saved before the option existed has no ``fetch``
and gets Fluxo's fetch: a private link then fails visibly with its reason instead of silently at
Meta, and a link's token is not handed to Meta.
Free-form, so only inside the 24-hour window, like text.
"""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, StepError, ValidationIssue, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

KINDS = {"image": ("imagem", "image"), "document": ("documento", "document"), "audio": ("áudio", "audio"),
         "video": ("vídeo", "video"), "sticker": ("figurinha", "sticker")}
CAPTIONED = ("image", "video", "document")


def library_file(media_id):
    """The library file of that id, False when it does not exist, None without a database."""
    try:
        from messaging.models import MediaFile

        return MediaFile.objects.filter(pk=media_id, direction=MediaFile.Direction.LIBRARY).first() or False
    except Exception:  # no database at hand (offline validation): do not guess
        return None


FETCHERS = {"fluxo": ("Fluxo baixa o arquivo e o envia (links internos ou com token)",
                      "Fluxo downloads the file and sends it (internal links or links with a token)"),
            "meta": ("Meta busca o link (link público)", "Meta fetches the link (public link)")}


def media_reference(*, source: str, media_id, link: str, fetch: str = "fluxo") -> dict:
    """Meta's media object of a send: a library file or a link Fluxo fetches (both resolved by the
    sender), or a link Meta fetches itself (``fetch="meta"``)."""
    if source == "library":
        return {"fluxo_media": int(media_id)}
    if fetch == "meta":
        return {"link": link}
    return {"fluxo_fetch": link}


@register
class SendMediaNode(NodeType):
    key = "send_media"
    label = labels("Enviar mídia", "Send media")
    description = labels(
        "Envia imagem, documento, áudio, vídeo ou figurinha, da biblioteca de mídia ou de um link. "
        "Só dentro da janela de 24 horas.",
        "Sends an image, document, audio, video or sticker, from the media library or a link. "
        "Only inside the 24-hour window.",
    )
    category = "messaging"
    icon = "paperclip"
    ports = [NEXT, FAILURE]
    default_config = {"media_type": "image", "source": "library", "fetch": "fluxo"}
    summary = ["media_type", "caption"]
    fields = {
        "media_type": field("Tipo de mídia", "Media type", enum=KINDS),
        "source": field("Origem", "Source", enum={"library": ("biblioteca de mídia", "media library"),
                                                  "url": ("link (expressão)", "link (expression)")}),
        "media": field("Arquivo da biblioteca", "Library file", widget="media",
                       help=("Escolha um arquivo enviado em Mídia.", "Pick a file uploaded under Media."),
                       visible_when={"source": "library"}),
        "url": field("Link do arquivo", "File link", placeholder="{{vars.invoice_url}}",
                     help=("Um endereço http(s). Um token na própria URL (?token=...) é enviado ao servidor.",
                           "An http(s) address. A token in the URL itself (?token=...) reaches the server."),
                     visible_when={"source": "url"}),
        "fetch": field("Quem baixa o arquivo", "Who downloads the file", enum=FETCHERS,
                       help=("O Fluxo baixa o arquivo, confere tipo e tamanho e o envia pelo WhatsApp: funciona "
                             "com o ERP interno (endereços privados precisam estar em FLUXO_HTTP_ALLOWLIST). "
                             "“Meta busca o link” só serve para links públicos: se a Meta não conseguir baixar, "
                             "a mensagem falha na Meta.",
                             "Fluxo downloads the file, checks its type and size and sends it over WhatsApp: works "
                             "with the internal ERP (private addresses must be in FLUXO_HTTP_ALLOWLIST). "
                             "“Meta fetches the link” only suits public links: if Meta cannot download it, the "
                             "message fails at Meta."),
                       visible_when={"source": "url"}),
        "caption": field("Legenda", "Caption", widget="multiline",
                         visible_when={"media_type": list(CAPTIONED)}),
        "filename": field("Nome do arquivo", "File name", placeholder="fatura.pdf",
                          visible_when={"media_type": "document"}),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "media_type": {"enum": list(KINDS)},
            "source": {"enum": ["library", "url"]},
            "media": {"type": "integer", "minimum": 1},
            "url": {"type": "string", "maxLength": 2000},
            "fetch": {"enum": list(FETCHERS), "default": "fluxo"},
            "caption": {"type": "string", "maxLength": 1024},
            "filename": {"type": "string", "maxLength": 240},
        },
        "required": ["media_type", "source"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [(name, config[name]) for name in ("url", "caption", "filename") if "{{" in (config.get(name) or "")]

    def validate(self, node_id, config):
        kind, source = config.get("media_type"), config.get("source")
        if source == "library":
            if not config.get("media"):
                return [ValidationIssue("media_required", labels("Escolha um arquivo da biblioteca de mídia.",
                                                                 "Pick a file from the media library."),
                                        node_id, "media")]
            found = library_file(config["media"])
            if found is False:
                return [ValidationIssue("media_unknown", labels(
                    "Este arquivo não está mais na biblioteca de mídia: escolha outro.",
                    "This file is no longer in the media library: pick another."), node_id, "media")]
            if found and found.kind != kind:
                return [ValidationIssue("media_kind_mismatch", labels(
                    f"O arquivo escolhido é do tipo “{found.kind}”, não “{kind}”: ajuste o tipo de mídia.",
                    f"The chosen file is a “{found.kind}”, not a “{kind}”: change the media type."),
                    node_id, "media_type")]
        elif not (config.get("url") or "").strip():
            return [ValidationIssue("url_required", labels("Informe o link do arquivo.", "Give the file link."),
                                    node_id, "url")]
        return []

    def execute(self, ctx):
        config = ctx.config
        kind, source = config["media_type"], config["source"]
        link = ""
        if source == "url":
            link = ctx.render(config.get("url", ""), field_name="url").strip()
            if not link.lower().startswith(("https://", "http://")):
                raise StepError(f"the file link must be an http(s) address, got {link[:120]!r}", code="bad_media_link")
        elif not config.get("media"):
            raise StepError("pick a file from the media library", code="media_missing")
        fetch = "meta" if config.get("fetch") == "meta" else "fluxo"  # absent (older nodes): Fluxo fetches
        payload = media_reference(source=source, media_id=config.get("media"), link=link, fetch=fetch)
        caption = ctx.render(config.get("caption", ""), field_name="caption") if kind in CAPTIONED else ""
        if caption:
            payload["caption"] = caption[:1024]
        if kind == "document":
            filename = ctx.render(config.get("filename", ""), field_name="filename").strip()
            if not filename and source == "library":
                found = library_file(config["media"])
                filename = (found.filename or found.name) if found else ""
            if filename:
                payload["filename"] = filename[:240]
        result = ctx.runtime.send(run=ctx.run, kind=kind, content={kind: payload},
                                  idempotency_key=ctx.idempotency_key())
        return Next("next", {**result, "media_type": kind,
                             **({"link": link, "fetched_by": fetch} if link else {})})
