"""Run another flow for the same contact and come back when it ends."""

from __future__ import annotations

from django.utils.translation import gettext

from flows.nodes.base import Next, NodeType, Port, StepError, Wait, labels
from flows.nodes.fields import field
from flows.nodes.registry import register

COMPLETED = Port("completed", labels("Concluído", "Completed"))
FAILED = Port("failed", labels("Falhou", "Failed"))
MAX_DEPTH = 5


@register
class SubflowNode(NodeType):
    key = "subflow"
    label = labels("Subfluxo", "Subflow")
    description = labels(
        "Executa outro fluxo para o mesmo contato e volta quando ele termina.",
        "Runs another flow for the same contact and returns when it ends.",
    )
    category = "flow"
    icon = "workflow"
    can_pause = True
    ports = [COMPLETED, FAILED]
    default_config = {"flow_id": None, "revision": "published"}
    summary = ["flow_id"]
    fields = {"flow_id": field("Fluxo (id)", "Flow (id)"),
              "revision": field("Revisão", "Revision", help=("'published' (a publicada) ou um número de revisão.",
                                                             "'published' (the published one) or a revision number."))}
    config_schema = {
        "type": "object",
        "properties": {
            "flow_id": {"type": "integer", "minimum": 1},
            "revision": {"anyOf": [{"const": "published"}, {"type": "integer", "minimum": 1}],
                         "description": "'published' (latest published) or a pinned revision number"},
            "output_variable": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
        },
        "required": ["flow_id"],
        "additionalProperties": False,
    }

    def defines(self, config):
        return [f"vars.{config['output_variable']}"] if config.get("output_variable") else []

    def execute(self, ctx):
        from flows.engine.graph import compiled_revision
        from flows.engine.interpreter import Interpreter, run_write_now
        from flows.models import Flow, FlowRun

        depth, parent = 0, ctx.run
        while parent.parent_run_id and depth <= MAX_DEPTH:
            parent, depth = parent.parent_run, depth + 1
        if depth >= MAX_DEPTH:
            raise StepError(gettext("subflows nest deeper than %(limit)s levels") % {"limit": MAX_DEPTH},
                            code="subflow_depth")
        flow = Flow.objects.filter(pk=ctx.config["flow_id"]).first()
        if flow is None:
            raise StepError(gettext("flow %(flow)s does not exist") % {"flow": ctx.config["flow_id"]},
                            code="subflow_missing")
        pinned = ctx.config.get("revision", "published")
        revision = flow.published_revision if pinned == "published" else flow.revisions.filter(revision=pinned).first()
        if ctx.run.is_test and revision is None and pinned == "published":
            revision = flow.latest_revision  # a test run may call a flow that is not published yet
        if revision is None:
            raise StepError(gettext("flow '%(flow)s' has no published revision") % {"flow": flow.name}
                            if pinned == "published" else
                            gettext("flow '%(flow)s' has no revision %(revision)s") % {"flow": flow.name,
                                                                                      "revision": pinned},
                            code="subflow_no_revision")
        triggers = compiled_revision(revision).trigger_ids
        if not triggers:
            raise StepError(gettext("flow '%(flow)s' has no trigger to start from") % {"flow": flow.name},
                            code="subflow_no_trigger")
        # A child that ends at once looks its parent up in the database: store this run as active first,
        # or a subflow wait it just left would look current and the parent would be resumed twice.
        run_write_now(ctx.run)
        child = Interpreter(ctx.runtime).run_start(
            flow=flow, revision=revision, contact=ctx.run.contact, trigger_node_id=triggers[0],
            conversation=ctx.run.conversation_id, is_test=ctx.run.is_test, parent_run=ctx.run,
            trigger_payload={**ctx.run.context.get("trigger", {}), "parent_run_id": ctx.run.pk},
        )
        ctx.invalidate_contact()  # the child may have changed the contact (name, attributes, tags)
        if child.pk is None:
            from core.unit import flush_current

            flush_current()  # the child's id goes into this step's output and the parent's wait
        if child.status in FlowRun.OPEN_STATUSES:
            return Wait("subflow", output={"child_run_id": child.pk})
        return self._finish(ctx, child.status, child.context.get("vars", {}), child.pk)

    def _finish(self, ctx, status, child_vars, child_id):
        if ctx.config.get("output_variable"):
            ctx.vars[ctx.config["output_variable"]] = child_vars
        return Next("completed" if status == "completed" else "failed", {"child_run_id": child_id, "child_status": status})

    def accepts(self, ctx) -> bool:
        return ctx.event_kind == "subflow"

    def resume(self, ctx):
        return self._finish(ctx, ctx.event.get("child_status"), ctx.event.get("child_vars") or {}, ctx.event.get("child_run_id"))
