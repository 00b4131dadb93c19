"""The demo flows that `make run` loads. Each one passes validation and is published."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from flows.models import Flow


def demo_node(node_id: str, node_type: str, x: int, y: int, **config: Any) -> tuple[dict, dict]:
    """A node and its canvas position, for building demo definitions."""
    return {"id": node_id, "type": node_type, "config": config}, {"position": {"x": x, "y": y}}


def demo_definition(nodes: list[tuple[dict, dict]], edges: list[tuple[str, str, str]], notes=None) -> dict[str, Any]:
    """A spec v1 definition from demo nodes and (source, port, target) edges; layout goes to ``ui``."""
    return {
        "spec_version": 1,
        "nodes": [n for n, _ in nodes],
        "edges": [{"id": f"e-{s}-{p}-{t}", "source": s, "source_port": p, "target": t} for s, p, t in edges],
        "ui": {"nodes": {n["id"]: ui for n, ui in nodes}, "notes": notes or []},
    }


def post_call_followup() -> dict[str, Any]:
    return demo_definition(
        [
            demo_node("call_finished", "trigger", 40, 160, event="external", event_name="call.finished",
                      fields=[{"name": "call_result", "type": "text", "sample": "no_answer"}]),
            demo_node("wait_2h", "delay", 300, 160, mode="duration", duration={"value": 2, "unit": "hours"}),
            demo_node("result", "branch", 560, 160, mode="conditions", default_label="Outro", conditions=[
                {"id": "answered", "label": "Atendeu", "match": "all",
                 "rules": [{"left": "{{trigger.call_result}}", "op": "equals", "right": "answered"}]},
                {"id": "no_answer", "label": "Não atendeu", "match": "any",
                 "rules": [{"left": "{{trigger.call_result}}", "op": "in_list", "right": "no_answer,busy,voicemail"}]},
            ]),
            demo_node("thanks", "send_template", 860, 60, template="followup_answered", language="pt_BR",
               parameters={"body": ["{{contact.first_name | default(\"cliente\")}}"]}),
            demo_node("retry", "send_template", 860, 260, template="followup_no_answer", language="pt_BR",
               parameters={"body": ["{{contact.first_name | default(\"cliente\")}}"]}),
        ],
        [("call_finished", "next", "wait_2h"), ("wait_2h", "next", "result"), ("result", "answered", "thanks"),
         ("result", "no_answer", "retry")],
        notes=[{"id": "note1", "text": "O discador envia POST /api/events/ com call.finished e call_result.",
                "position": {"x": 40, "y": 20}}],
    )


def appointment_reminder() -> dict[str, Any]:
    return demo_definition(
        [
            demo_node("scheduled", "trigger", 40, 160, event="external", event_name="appointment.scheduled",
                      fields=[{"name": "appointment_at", "type": "datetime", "sample": "2026-11-22T14:00:00-03:00"}]),
            demo_node("day_before", "delay", 320, 160, mode="expression", expression="{{trigger.appointment_at}}",
               offset={"value": -24, "unit": "hours"}),
            demo_node("remind", "send_template", 620, 160, template="appointment_reminder", language="pt_BR",
               parameters={"body": ["{{contact.first_name | default(\"cliente\")}}",
                                    "{{trigger.appointment_at | date(\"%d/%m às %H:%M\")}}"]}),
        ],
        [("scheduled", "next", "day_before"), ("day_before", "next", "remind")],
    )


def lead_qualification() -> dict[str, Any]:
    return demo_definition(
        [
            demo_node("lead", "trigger", 40, 200, event="message", match="keyword", keywords=["QUERO", "ORÇAMENTO", "PLANOS"]),
            demo_node("ask_size", "send_message", 300, 200,
               text="Olá {{contact.first_name | default(\"\")}}! Para indicar o melhor plano: qual o tamanho da sua empresa?",
               buttons=[{"id": "small", "title": "Até 10 pessoas"}, {"id": "medium", "title": "11 a 100"},
                        {"id": "large", "title": "Mais de 100"}]),
            demo_node("answer", "wait_for_reply", 580, 200, timeout={"value": 24, "unit": "hours"}, save_as="company_size"),
            demo_node("route", "branch", 840, 200, mode="conditions", default_label="Pequena/média", conditions=[
                {"id": "enterprise", "label": "Grande", "match": "any",
                 "rules": [{"left": "{{reply.reply_id}}", "op": "equals", "right": "large"},
                           {"left": "{{reply.text}}", "op": "contains", "right": "mais de 100"}]},
            ]),
            demo_node("tag_enterprise", "set_variable", 1100, 100, assignments=[
                {"target": "contact.attributes.segment", "value": "enterprise", "type": "text"},
                {"target": "contact.tags", "value": "lead-enterprise", "type": "text", "operation": "add_tag"}]),
            demo_node("consultant", "send_message", 1360, 100, text="Perfeito! Um consultor vai falar com você ainda hoje."),
            demo_node("self_service", "send_message", 1100, 300,
               text="Obrigado! Veja nossos planos em https://fluxo.example/planos — responda aqui se tiver dúvidas.",
               preview_url=True),
            demo_node("no_answer", "end", 840, 400, status="completed", reason="lead não respondeu"),
        ],
        [("lead", "next", "ask_size"), ("ask_size", "next", "answer"), ("answer", "reply", "route"),
         ("answer", "timeout", "no_answer"), ("route", "enterprise", "tag_enterprise"),
         ("tag_enterprise", "next", "consultant"), ("route", "default", "self_service")],
    )


def support_triage() -> dict[str, Any]:
    return demo_definition(
        [
            demo_node("any_message", "trigger", 40, 200, event="message", match="any"),
            demo_node("topic", "branch", 300, 200, mode="conditions", default_label="Outros assuntos", conditions=[
                {"id": "billing", "label": "Financeiro", "match": "any",
                 "rules": [{"left": "{{trigger.text}}", "op": "regex", "right": "boleto|pagamento|fatura|pix"}]},
            ]),
            demo_node("billing_reply", "send_message", 580, 80,
               text="Para 2ª via de boleto ou dúvidas de pagamento, acesse https://fluxo.example/financeiro."),
            demo_node("ask_ai", "ai_reply", 580, 300, assistant="Atendimento", input="{{trigger.text}}",
               output_variable="ai_answer", memory_turns=6),
            demo_node("ai_answer", "send_message", 860, 240, text="{{vars.ai_answer}}"),
            demo_node("handoff", "send_message", 860, 380,
               text="Vou chamar uma pessoa do nosso time para te ajudar. Aguarde um instante!"),
        ],
        [("any_message", "next", "topic"), ("topic", "billing", "billing_reply"), ("topic", "default", "ask_ai"),
         ("ask_ai", "next", "ai_answer"), ("ask_ai", "failure", "handoff")],
    )


def demo_invoice_pdf() -> int:
    """The demo's invoice in the media library (created once): a small real PDF."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from messaging.media import media_library_create
    from messaging.models import MediaFile

    existing = MediaFile.objects.filter(direction=MediaFile.Direction.LIBRARY, name="Fatura de exemplo").first()
    if existing is not None:
        return existing.pk
    upload = SimpleUploadedFile("fatura-exemplo.pdf", invoice_pdf_bytes(), content_type="application/pdf")
    return media_library_create(upload=upload, name="Fatura de exemplo").pk


def invoice_pdf_bytes(lines: tuple[str, ...] = ("Fatura 2026-05 - Loja Exemplo", "Valor: R$ 129,90",
                                               "Vencimento: 10/06/2026")) -> bytes:
    """A one-page PDF with a few lines of text (Helvetica), cross-reference table included."""
    text = " ".join(f"BT /F1 14 Tf 72 {720 - 24 * i} Td ({line}) Tj ET" for i, line in enumerate(lines))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def invoice_pdf() -> dict[str, Any]:
    """A customer sends a photo (the bill, the meter, a receipt): Fluxo answers with the invoice in PDF."""
    return demo_definition(
        [
            demo_node("photo", "trigger", 40, 160, event="message", match="media", media_types=["image"]),
            demo_node("thanks", "send_message", 300, 160,
                      text="Recebemos sua foto, {{contact.first_name | default(\"cliente\")}}! Segue sua fatura em PDF."),
            demo_node("invoice", "send_media", 580, 160, media_type="document", source="library",
                      media=demo_invoice_pdf(), caption="Sua fatura", filename="fatura.pdf"),
        ],
        [("photo", "next", "thanks"), ("thanks", "next", "invoice")],
        notes=[{"id": "note1", "text": "No celular de teste, envie uma foto (⊕): o fluxo responde com o PDF da "
                                      "biblioteca de mídia.", "position": {"x": 40, "y": 20}}],
    )


DEMO_FLOWS = [
    ("Pós-ligação: follow-up", "Depois de uma ligação, espera 2 h e envia o template certo para o resultado.",
     post_call_followup),
    ("Lembrete de consulta", "24 h antes da consulta, envia o lembrete.", appointment_reminder),
    ("Qualificação de leads", "Pergunta o porte da empresa com botões e encaminha.", lead_qualification),
    ("Triagem de suporte", "Financeiro por palavra-chave; o resto responde a IA ou passa para um atendente.",
     support_triage),
    ("Fatura em PDF", "O cliente envia uma foto; o fluxo agradece e responde com a fatura em PDF.", invoice_pdf),
]


@transaction.atomic
def seed(*, stdout=None) -> list[Flow]:
    """Create (once) and publish the demo flows. Idempotent: existing flows by name are kept."""
    from flows.services import flow_create, flow_publish
    from flows.validation import definition_validate

    flows = []
    for name, description, build in DEMO_FLOWS:
        flow = Flow.objects.filter(name=name).first()
        if flow is None:
            definition = build()
            result = definition_validate(definition)
            if not result.valid:
                raise ValueError(f"demo flow '{name}' is invalid: {[i.as_dict() for i in result.issues]}")
            flow = flow_create(name=name, description=description, definition=definition)
            flow_publish(flow=flow, revision_number=1, comment="Demo")
            if stdout:
                stdout.write(f"  demo flow: {name}\n")
        flows.append(flow)
    return flows
