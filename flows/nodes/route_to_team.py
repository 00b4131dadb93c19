"""encaminhar para equipe: assign the conversation to a team, set its priority and move its state."""

from __future__ import annotations

from django.utils.translation import gettext

from flows.nodes import registry
from flows.nodes.base import FAILURE, NEXT, Next, NodeType, ValidationIssue, labels
from flows.nodes.fields import field
from flows.nodes.registry import register


@register
class RouteToTeamNode(NodeType):
    key = "route_to_team"
    label = labels("Encaminhar para equipe", "Route to team")
    description = labels(
        "Atribui a conversa a uma equipe (ex.: Prioridade, Vendas), define a prioridade e o estado. "
        "Guarda vars.assigned_team e vars.team_open (se a equipe está no horário de atendimento).",
        "Assigns the conversation to a team (e.g. Priority, Sales), sets priority and state. "
        "Stores vars.assigned_team and vars.team_open (whether the team is within its business hours).",
    )
    category = "routing"
    icon = "users"
    ports = [NEXT, FAILURE]
    default_config = {"team": "", "state": "triaged", "when_closed": "assign"}
    summary = ["team", "state"]
    fields = {
        "team": field("Equipe", "Team", placeholder="Vendas",
                      required_message=("Escolha a equipe.", "Pick the team.")),
        "priority": field("Prioridade", "Priority", help=("Vazio: a prioridade da equipe.", "Empty: the team's priority.")),
        "state": field("Estado da conversa", "Conversation state"),
        "when_closed": field("Fora do horário da equipe", "Outside the team's hours", enum={
            "assign": ("encaminhar mesmo assim", "assign anyway"), "failure": ("seguir por Falha", "take Failure")}),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "team": {"type": "string", "minLength": 1, "maxLength": 200,
                     "description": "Team name, or an expression such as {{vars.team}}"},
            "priority": {"type": ["integer", "string", "null"],
                         "description": "Empty: the team's priority. A number, or an expression."},
            "state": {"enum": ["triaged", "in_service", "pending", None], "default": "triaged"},
            "when_closed": {"enum": ["assign", "failure"], "default": "assign",
                            "description": "Outside the team's business hours: assign anyway, or take 'failure'."},
        },
        "required": ["team"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        found = [("team", config.get("team") or "")]
        if isinstance(config.get("priority"), str):
            found.append(("priority", config["priority"]))
        return [(name, text) for name, text in found if "{{" in text]

    def defines(self, config):
        return ["vars.assigned_team", "vars.team_open"]

    def validate(self, node_id, config):
        team = (config.get("team") or "").strip()
        if team and "{{" not in team and not registry.name_exists("team", team):
            return [ValidationIssue("team_unknown",
                                    labels(f"A equipe '{team}' não existe.", f"Team '{team}' does not exist."),
                                    node_id, "team")]
        return []

    def execute(self, ctx):
        from flows.nodes.base import StepError

        config = ctx.config
        team = ctx.render(config["team"], field_name="team").strip()
        priority = config.get("priority")
        if isinstance(priority, str):
            rendered = ctx.render(priority, field_name="priority").strip()
            try:
                priority = int(rendered) if rendered else None
            except ValueError:
                raise StepError(gettext("priority '%(value)s' is not a whole number") % {"value": rendered},
                                code="invalid_priority") from None
        result = ctx.runtime.call("route_to_team", run=ctx.run, team=team, priority=priority,
                                  state=config.get("state", "triaged"), when_closed=config.get("when_closed", "assign"),
                                  now=ctx.now())
        ctx.vars["assigned_team"] = result["team"]
        ctx.vars["team_open"] = result["team_open"]
        return Next("next", result)
