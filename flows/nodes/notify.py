"""notificar equipe: tell a team through a signed webhook, a Slack-compatible webhook or e-mail."""

from __future__ import annotations

from datetime import timedelta

from flows.calls import call_accepts, call_outcome
from flows.nodes import registry
from flows.nodes.base import FAILURE, NEXT, Next, NodeType, ValidationIssue, Wait, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

CALL_DEADLINE_SECONDS = 120


@register
class NotifyNode(NodeType):
    key = "notify"
    label = labels("Notificar equipe", "Notify team")
    description = labels(
        "Avisa uma equipe por webhook (assinado), webhook de chat compatível com Slack ou e-mail.",
        "Tells a team through a (signed) webhook, a Slack-compatible chat webhook or e-mail.",
    )
    category = "routing"
    icon = "bell"
    ports = [NEXT, FAILURE]
    default_config = {"channel": "email", "message": "Novo atendimento de {{contact.name}} ({{contact.phone}})"}
    summary = ["channel", "team", "message"]
    fields = {
        "channel": field("Canal", "Channel", enum={"webhook": ("webhook assinado", "signed webhook"),
                                                  "slack": ("chat (compatível com Slack)", "chat (Slack-compatible)"),
                                                  "email": ("e-mail", "e-mail")}),
        "subject": field("Assunto", "Subject", visible_when={"channel": "email"}),
        "to": field("Para (e-mails)", "To (e-mails)", visible_when={"channel": "email"}),
        "subscription": field("Assinatura de webhook", "Webhook subscription", visible_when={"channel": "webhook"}, widget="plain"),
        "credential": field("Credencial com a URL do chat", "Credential holding the chat URL", visible_when={"channel": "slack"},
                            widget="plain"),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "channel": {"enum": ["webhook", "slack", "email"]},
            "team": {"type": "string", "maxLength": 200, "description": "Team name (or an expression)."},
            "message": {"type": "string", "minLength": 1, "maxLength": 4000},
            "subject": {"type": "string", "maxLength": 200, "description": "E-mail subject."},
            "to": {"type": "array", "items": {"type": "string", "format": "email", "maxLength": 254}, "maxItems": 20,
                   "description": "E-mail addresses (empty: the team's mailbox or members)."},
            "subscription": {"type": "string", "maxLength": 120, "description": "Webhook subscription name."},
            "credential": {"type": "string", "maxLength": 80,
                           "description": "Vault credential (kind 'url') holding the chat webhook URL."},
        },
        "required": ["channel", "message"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [(name, config[name]) for name in ("team", "message", "subject") if "{{" in (config.get(name) or "")]

    def validate(self, node_id, config):
        need = {"webhook": "subscription", "slack": "credential"}.get(config.get("channel", ""))
        if need and not config.get(need):
            return [ValidationIssue(f"{need}_required",
                                    labels(f"Informe o campo '{need}' para este canal.",
                                           f"Give '{need}' for this channel."), node_id, need)]
        if need and not registry.name_exists(need, config[need]):
            return [ValidationIssue(f"{need}_unknown",
                                    labels(f"'{config[need]}' não existe ({need}).", f"'{config[need]}' does not exist ({need})."),
                                    node_id, need)]
        if config.get("channel") == "email" and not config.get("to") and not config.get("team"):
            return [ValidationIssue("recipients_required",
                                    labels("Informe destinatários ou uma equipe.", "Give recipients or a team."),
                                    node_id, "to")]
        return []

    def execute(self, ctx):
        config = ctx.config
        kwargs = {
            "channel": config["channel"], "message": ctx.render(config["message"], field_name="message"),
            "team": ctx.render(config.get("team") or "", field_name="team").strip(),
            "subject": ctx.render(config.get("subject") or "", field_name="subject"),
            "to": list(config.get("to") or []), "subscription": config.get("subscription") or "",
            "credential": config.get("credential") or "",
        }
        # Slack, e-mail or a webhook: sent outside the transaction and the contact's lock (flows.calls).
        return Wait("call", wake_at=ctx.now() + timedelta(seconds=CALL_DEADLINE_SECONDS),
                    output={"channel": kwargs["channel"]}, call={"service": "notify", "kwargs": kwargs})

    def accepts(self, ctx):
        return call_accepts(ctx)

    def resume(self, ctx):
        return Next("next", call_outcome(ctx))
