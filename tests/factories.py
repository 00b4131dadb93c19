"""Builders for test data: contacts, channels, flows with published revisions, templates."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from flows.models import Flow, FlowRevision
from flows.spec import CURRENT_SPEC_VERSION
from messaging.models import Contact, MessageTemplate, SandboxChannel

_phones = itertools.count(1000)


def make_user(username: str = "ana", *, role: str | None = "editor", password: str = "s3nha-forte-123", **extra):
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=username, password=password, **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def make_channel(name: str = "Sandbox") -> SandboxChannel:
    return SandboxChannel.objects.create(name=name)


def make_contact(*, phone: str | None = None, name: str = "Maria Silva", channel=None, in_window: bool = True,
                 **extra: Any) -> Contact:
    phone = phone or f"+55119{next(_phones):08d}"
    channel = channel or SandboxChannel.objects.first() or make_channel()
    return Contact.objects.create(phone=phone, name=name, channel=channel,
                                  last_inbound_at=timezone.now() if in_window else None, **extra)


def make_template(name: str = "lembrete", *, language: str = "pt_BR", body: str = "Olá {{1}}!",
                  status: str = "APPROVED", category: str = "UTILITY", channel=None) -> MessageTemplate:
    import re

    count = len(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", body)))
    return MessageTemplate.objects.create(
        channel=channel, name=name, language=language, status=status, category=category,
        components=[{"type": "BODY", "text": body}], parameter_count=count,
    )


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config}


def edge(source: str, target: str, port: str = "next") -> dict[str, Any]:
    return {"id": f"e-{source}-{port}-{target}", "source": source, "source_port": port, "target": target}


def definition(nodes: list[dict], edges: list[dict]) -> dict[str, Any]:
    return {"spec_version": CURRENT_SPEC_VERSION, "nodes": nodes, "edges": edges, "ui": {}}


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    """A straight line of nodes joined through their ``next`` ports."""
    return definition(list(nodes), [edge(a["id"], b["id"]) for a, b in itertools.pairwise(nodes)])


def make_flow(defn: dict[str, Any], *, name: str = "Fluxo de teste", publish: bool = True) -> Flow:
    flow = Flow.objects.create(name=name)
    revision = FlowRevision.objects.create(flow=flow, revision=1, spec_version=defn.get("spec_version", 1),
                                           definition=defn)
    if publish:
        flow.published_revision = revision
        flow.published_at = timezone.now()
        flow.status = Flow.Status.ACTIVE
        flow.save()
    return flow
