"""The runtime: every side effect the interpreter needs, behind one interface.

The interpreter never sends, calls or reads the clock by itself; it asks its runtime. The
default runtime (:class:`DefaultRuntime`) serves production runs and editor test runs alike
(a test contact sits on the sandbox channel, so nothing leaves the machine); tests may pass a
runtime with a fixed clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext

if TYPE_CHECKING:
    from flows.models import FlowRun, RunStep


class Runtime(Protocol):
    def now(self) -> datetime: ...

    def send(self, *, run: FlowRun, kind: str, content: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Queue an outbound message to the run's contact. Returns ``{"message_id": ..., "status": ...}``.

        Raises :class:`flows.nodes.base.StepError` when WhatsApp's rules refuse it.
        """

    def ai_reply(self, *, run: FlowRun, assistant: str, text: str, memory_turns: int) -> dict[str, Any]:
        """Ask an assistant. Returns ``{"text", "confidence", "tokens", "latency_ms", "provider"}``."""

    def http_request(self, *, run: FlowRun, request: dict[str, Any]) -> dict[str, Any]:
        """Call a company system (see the ``http_request`` node)."""

    def call(self, name: str, **kwargs: Any) -> Any:
        """Call a named service that a node type needs (routing, subflows, notifications)."""

    def step_recorded(self, step: RunStep) -> None:
        """A step was written; the default runtime publishes it to live trace viewers."""


# Named services that node types in other apps provide: {"name": "module.path:function"}.
# Resolved lazily, so ``flows`` does not import ``integrations`` at load time.
SERVICES: dict[str, str] = {
    "ai_reply": "integrations.ai.services:assistant_reply",
    "http_request": "integrations.http.services:http_request_execute",
}


def _resolve(dotted: str):
    from importlib import import_module

    module_name, _, attr = dotted.partition(":")
    return getattr(import_module(module_name), attr)


class DefaultRuntime:
    def now(self) -> datetime:
        return timezone.now()

    def send(self, *, run, kind, content, idempotency_key):
        from flows.engine.outcomes import StepError
        from messaging.rules import SendRefused
        from messaging.services import message_queue_outbound

        try:
            message = message_queue_outbound(
                contact=run.contact,
                conversation=run.conversation_id,
                kind=kind,
                content=content,
                run=run,
                idempotency_key=idempotency_key,
            )
        except SendRefused as exc:
            raise StepError(exc.message, code=exc.code, details=exc.details) from exc
        return {"message_id": message.pk, "status": message.status} if message.pk else {
            "idempotency_key": message.idempotency_key, "status": message.status}

    def ai_reply(self, *, run, assistant, text, memory_turns):
        return self.call("ai_reply", run=run, assistant=assistant, text=text, memory_turns=memory_turns)

    def http_request(self, *, run, request):
        return self.call("http_request", run=run, request=request)

    def call(self, name, **kwargs):
        from flows.engine.outcomes import StepError

        dotted = SERVICES.get(name)
        if dotted is None:
            raise StepError(gettext("service '%(name)s' is not available on this installation") % {"name": name},
                            code="no_service")
        try:
            function = _resolve(dotted)
        except (ImportError, AttributeError) as exc:
            raise StepError(gettext("service '%(name)s' is not available: %(error)s") % {"name": name, "error": exc},
                            code="no_service") from exc
        return function(**kwargs)

    def step_recorded(self, step) -> None:
        from flows.trace import trace_publish_step

        trace_publish_step(step)


def register_service(name: str, dotted: str) -> None:
    """Let an app provide a named runtime service (called from its ``AppConfig.ready``)."""
    SERVICES[name] = dotted
