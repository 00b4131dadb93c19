"""enviar localização: a map pin (latitude, longitude, name, address), e.g. the store's address."""

from __future__ import annotations

from flows.nodes.base import FAILURE, NEXT, Next, NodeType, StepError, labels
from flows.nodes.fields import field
from flows.nodes.registry import register


def _coordinate(text: str, low: float, high: float, name: str) -> float:
    try:
        value = float(str(text).replace(",", ".").strip())
    except ValueError:
        raise StepError(f"{name} must be a number, got {str(text)[:40]!r}", code="bad_coordinate") from None
    if not low <= value <= high:
        raise StepError(f"{name} must be between {low:g} and {high:g}, got {value:g}", code="bad_coordinate")
    return value


@register
class SendLocationNode(NodeType):
    key = "send_location"
    label = labels("Enviar localização", "Send location")
    description = labels("Envia um ponto no mapa (loja, endereço de entrega). Só dentro da janela de 24 horas.",
                         "Sends a map pin (store, delivery address). Only inside the 24-hour window.")
    category = "messaging"
    icon = "map-pin"
    ports = [NEXT, FAILURE]
    default_config = {"latitude": "", "longitude": ""}
    summary = ["name", "address"]
    fields = {
        "latitude": field("Latitude", "Latitude", placeholder="-23.5613"),
        "longitude": field("Longitude", "Longitude", placeholder="-46.6565"),
        "name": field("Nome do local", "Place name", placeholder="Loja Paulista"),
        "address": field("Endereço", "Address", placeholder="Av. Paulista, 1000 - São Paulo"),
    }
    config_schema = {
        "type": "object",
        "properties": {
            "latitude": {"type": "string", "minLength": 1, "maxLength": 200},
            "longitude": {"type": "string", "minLength": 1, "maxLength": 200},
            "name": {"type": "string", "maxLength": 1000},
            "address": {"type": "string", "maxLength": 1000},
        },
        "required": ["latitude", "longitude"],
        "additionalProperties": False,
    }

    def expressions(self, config):
        return [(n, config[n]) for n in ("latitude", "longitude", "name", "address") if "{{" in (config.get(n) or "")]

    def execute(self, ctx):
        config = ctx.config
        location: dict = {
            "latitude": _coordinate(ctx.render(config["latitude"], field_name="latitude"), -90, 90, "latitude"),
            "longitude": _coordinate(ctx.render(config["longitude"], field_name="longitude"), -180, 180, "longitude"),
        }
        for name in ("name", "address"):
            value = ctx.render(config.get(name, ""), field_name=name).strip()
            if value:
                location[name] = value
        result = ctx.runtime.send(run=ctx.run, kind="location", content={"location": location},
                                  idempotency_key=ctx.idempotency_key())
        return Next("next", {**result, **location})
