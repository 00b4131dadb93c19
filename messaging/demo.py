"""Demo data of the messaging app: the sandbox channel, the templates the demo flows use, contacts.

Idempotent: ``seed()`` can run on every ``make run``.
"""

from __future__ import annotations

from django.db import transaction

from messaging.models import MessageTemplate
from messaging.services import sandbox_channel_get_or_create, sandbox_contact_create, template_parameter_count

DEMO_TEMPLATES = [
    ("followup_no_answer", "UTILITY",
     "Olá {{1}}, tentamos falar com você e não conseguimos. Podemos ligar mais tarde?",
     [{"type": "QUICK_REPLY", "text": "Pode ligar"}, {"type": "QUICK_REPLY", "text": "Prefiro mensagem"}]),
    ("followup_answered", "UTILITY", "Obrigado pela conversa, {{1}}! Qualquer dúvida, responda aqui.", []),
    ("appointment_reminder", "UTILITY", "Olá {{1}}, lembrete da sua consulta em {{2}}.",
     [{"type": "QUICK_REPLY", "text": "Confirmo"}, {"type": "QUICK_REPLY", "text": "Preciso remarcar"}]),
    ("promo_mensal", "MARKETING", "Oi {{1}}! Neste mês, {{2}} de desconto nos planos anuais.",
     [{"type": "QUICK_REPLY", "text": "Parar promoções"}]),
]

DEMO_CONTACTS = [("+5511987650001", "Maria Silva"), ("+5521987650002", "João Souza"),
                 ("+5531987650003", "Ana Lima")]


@transaction.atomic
def seed(*, stdout=None) -> None:
    channel = sandbox_channel_get_or_create(name="Sandbox")
    for name, category, body, buttons in DEMO_TEMPLATES:
        components = [{"type": "BODY", "text": body}]
        if buttons:
            components.append({"type": "BUTTONS", "buttons": buttons})
        _, created = MessageTemplate.objects.get_or_create(
            channel=channel, name=name, language="pt_BR",
            defaults={"status": MessageTemplate.Status.APPROVED, "category": category, "components": components,
                      "parameter_count": template_parameter_count(components)},
        )
        if created and stdout:
            stdout.write(f"  demo template: {name} (pt_BR, {category})\n")
    for phone, name in DEMO_CONTACTS:
        sandbox_contact_create(phone=phone, name=name, channel=channel)
    if stdout:
        stdout.write(f"  sandbox channel '{channel.name}' with {len(DEMO_CONTACTS)} contacts: open /sandbox/\n")
