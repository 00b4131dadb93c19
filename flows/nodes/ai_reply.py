"""gerar resposta IA: ask an assistant and keep its answer in a variable."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext

from flows.calls import call_accepts, call_outcome
from flows.nodes.base import FAILURE, NEXT, Next, NodeType, StepError, Wait, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

CALL_DEADLINE_SECONDS = 180  # the provider's own timeout is shorter; beyond it the node fails over


@register
class AIReplyNode(NodeType):
    key = "ai_reply"
    label = labels("Gerar resposta IA", "AI reply")
    description = labels(
        "Pergunta a um assistente e guarda a resposta numa variável; se ele não souber, segue por 'Falha'.",
        "Asks an assistant and stores its answer in a variable; if it cannot answer, follows 'Failure'.",
    )
    category = "ai"
    icon = "sparkles"
    ports = [NEXT, FAILURE]
    default_config = {"assistant": "", "input": "{{trigger.text}}", "output_variable": "ai_answer", "memory_turns": 6}
    summary = ["assistant", "output_variable"]
    fields = {
        "assistant": field("Assistente", "Assistant", widget="plain",
                           required_message=("Escolha o assistente.", "Pick the assistant.")),
        "input": field("Pergunta ao assistente", "Question for the assistant", placeholder="{{trigger.text}}"),
        "output_variable": field("Guardar resposta em", "Save the answer as", widget="plain",
                                 help=("A resposta fica em {{vars.nome}}.", "The answer goes to {{vars.name}}.")),
        "memory_turns": field("Mensagens lembradas", "Remembered messages"),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "assistant": {"type": "string", "minLength": 1, "maxLength": 120},
            "input": {"type": "string", "minLength": 1, "maxLength": 4000},
            "output_variable": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
            "memory_turns": {"type": "integer", "minimum": 0, "maximum": 50},
        },
        "required": ["assistant", "input", "output_variable"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [("input", config["input"])] if "{{" in (config.get("input") or "") else []

    def defines(self, config):
        return [f"vars.{config['output_variable']}"] if config.get("output_variable") else []

    def execute(self, ctx):
        config = ctx.config
        text = ctx.render(config["input"], field_name="input")
        # The provider is asked outside the transaction and the contact's lock (flows.calls); the run waits.
        return Wait("call", wake_at=ctx.now() + timedelta(seconds=CALL_DEADLINE_SECONDS), output={"input": text},
                    call={"service": "ai_reply", "kwargs": {"assistant": config["assistant"], "text": text,
                                                            "memory_turns": int(config.get("memory_turns", 6))}})

    def accepts(self, ctx):
        return call_accepts(ctx)

    def resume(self, ctx):
        config = ctx.config
        result = call_outcome(ctx)
        answer = (result or {}).get("text") or ""
        if not answer:
            raise StepError(gettext("the assistant gave no answer"), code="ai_no_answer", details=result or {})
        ctx.vars[config["output_variable"]] = answer
        text = ((ctx.run.context.get("_call") or {}).get("kwargs") or {}).get("text", "")
        return Next("next", {"input": text, **result})
