"""In-app alerts: conditions checked after each roll-up pass, one open alert per condition.

An alert opens when its condition first holds (and is then sent to the configured team, once),
stays open while it holds (its figures refreshed) and resolves by itself when it stops holding.
Conditions: a paused channel, a flow failing more than its threshold over 5 minutes, overdue
timers piling up, a storm of Graph API errors, and whatever other apps add through
:func:`register_alert_source` (integrations: disabled outbound webhooks). Sending goes through
the notifier integrations registers (:func:`register_alert_notifier`: the ``notify`` targets).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from core import metrics as core_metrics
from flows.models import Alert, AlertSettings, Flow, FlowRun, InboundEvent, StatGauge

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=5)


@dataclass
class Condition:
    """A condition that holds now: what it is about (``key``), its figures and where to look."""

    kind: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str = ""
    flow_id: int | None = None


_sources: list[Callable[[datetime], list[Condition]]] = []
_notifiers: list[Callable[..., dict[str, Any]]] = []


def register_alert_source(source: Callable[[datetime], list[Condition]]) -> None:
    """Add a function returning the conditions that hold now (called after every roll-up)."""
    if source not in _sources:
        _sources.append(source)


def register_alert_notifier(notifier: Callable[..., dict[str, Any]]) -> None:
    """Set the function that sends an alert to a team: ``notifier(settings=..., subject=..., text=...)``."""
    _notifiers[:] = [notifier]


def alert_settings_global() -> AlertSettings:
    found = AlertSettings.objects.filter(flow__isnull=True).order_by("id").first()
    return found or AlertSettings.objects.create(flow=None)


def alert_settings_for(flow_id: int | None) -> AlertSettings:
    """A flow's own settings, or the installation's when it has none."""
    if flow_id:
        own = AlertSettings.objects.filter(flow_id=flow_id).first()
        if own is not None:
            return own
    return alert_settings_global()


# --- Texts ------------------------------------------------------------------------------------


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def alert_title(kind: str, params: dict[str, Any]) -> dict[str, str]:
    """The alert's text in pt-BR and English (the bell, e-mails and chat messages use it)."""
    p = defaultdict(str, params)
    if kind == Alert.Kind.CHANNEL_PAUSED:
        return {"pt-BR": f"Canal {p['channel']} pausado: {p['reason']}",
                "en": f"Channel {p['channel']} paused: {p['reason']}"}
    if kind == Alert.Kind.WEBHOOK_DISABLED:
        return {"pt-BR": f"Webhook de saída {p['name']} desativado: {p['reason']}",
                "en": f"Outbound webhook {p['name']} disabled: {p['reason']}"}
    if kind == Alert.Kind.FAILURE_RATE:
        rate, limit = _percent(p["rate"] or 0), _percent(p["threshold"] or 0)
        return {"pt-BR": f"Fluxo {p['flow']}: {p['failed']} de {p['ended']} execuções falharam em 5 min ({rate}, limite {limit})",
                "en": f"Flow {p['flow']}: {p['failed']} of {p['ended']} runs failed in 5 min ({rate}, threshold {limit})"}
    if kind == Alert.Kind.TIMER_BACKLOG:
        return {"pt-BR": f"{p['overdue']} temporizadores atrasados (o mais antigo há {p['lateness']} s)",
                "en": f"{p['overdue']} timers overdue (the oldest by {p['lateness']} s)"}
    if kind == Alert.Kind.GRAPH_ERRORS:
        return {"pt-BR": f"{p['errors']} erros da Graph API do WhatsApp em 5 min (mais frequente: {p['top_code']})",
                "en": f"{p['errors']} WhatsApp Graph API errors in 5 min (most frequent: {p['top_code']})"}
    return {"pt-BR": kind, "en": kind}


def alert_as_dict(alert: Alert, *, user=None) -> dict[str, Any]:
    read = user is not None and alert.read_by.filter(pk=user.pk).exists()
    return {"id": alert.pk, "kind": alert.kind, "key": alert.key, "flow_id": alert.flow_id, "params": alert.params,
            "title": alert_title(alert.kind, alert.params), "link": alert.link, "read": read,
            "opened_at": alert.opened_at.isoformat(), "last_seen_at": alert.last_seen_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "notified_at": alert.notified_at.isoformat() if alert.notified_at else None,
            "notify_error": alert.notify_error}


# --- Conditions -------------------------------------------------------------------------------


def _channel_conditions(now: datetime) -> list[Condition]:
    from messaging.models import Channel

    return [Condition(Alert.Kind.CHANNEL_PAUSED, f"channel:{c.pk}", {"channel": c.name, "reason": c.pause_reason},
                      link="/dashboard#channels")
            for c in Channel.objects.filter(paused_at__isnull=False, is_active=True)]


def _failure_rate_conditions(now: datetime) -> list[Condition]:
    since = now - WINDOW
    ended: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (FlowRun.objects.filter(ended_at__gte=since, is_test=False,
                                       status__in=("completed", "failed", "expired"))
                .values("flow_id", "status").annotate(n=Count("id"))):
        ended[row["flow_id"]][row["status"]] += row["n"]
    if not ended:
        return []
    own = {s.flow_id: s for s in AlertSettings.objects.filter(flow_id__in=list(ended))}
    default = alert_settings_global()
    names = dict(Flow.objects.filter(pk__in=list(ended)).values_list("pk", "name"))
    found = []
    for flow_id, counts in ended.items():
        settings = own.get(flow_id, default)
        total = sum(counts.values())
        failed = counts.get("failed", 0)
        if not settings.failure_rate_enabled or total < max(1, settings.failure_min_runs):
            continue
        rate = failed / total
        if failed and rate > settings.failure_rate_threshold:
            link = "/runs?" + urlencode({"flow": flow_id, "status": "failed", "since": since.isoformat()})
            found.append(Condition(Alert.Kind.FAILURE_RATE, f"flow:{flow_id}",
                                   {"flow": names.get(flow_id, str(flow_id)), "failed": failed, "ended": total,
                                    "rate": round(rate, 4), "threshold": settings.failure_rate_threshold},
                                   link=link, flow_id=flow_id))
    return found


def _timer_conditions(now: datetime) -> list[Condition]:
    gauges = dict(StatGauge.objects.filter(flow_id=0, name__in=["timers.overdue", "timers.lateness"])
                  .values_list("name", "value"))
    overdue = int(gauges.get("timers.overdue", 0))
    if overdue and overdue >= alert_settings_global().timer_backlog_threshold:
        return [Condition(Alert.Kind.TIMER_BACKLOG, "timers", {"overdue": overdue,
                                                                "lateness": int(gauges.get("timers.lateness", 0))},
                          link="/runs?status=waiting")]
    return []


def _graph_conditions(now: datetime) -> list[Condition]:
    codes: dict[str, int] = defaultdict(int)
    minute = int(time.time() // 60)
    for per_minute in core_metrics.graph_errors_by_minute(after=minute - 6, before=minute + 1).values():
        for code, n in per_minute.items():
            codes[code] += n
    for event in (InboundEvent.objects.filter(kind=InboundEvent.Kind.STATUS, received_at__gte=now - WINDOW,
                                              payload__status="failed").values_list("raw", flat=True)[:10_000]):
        code = str((((event or {}).get("errors") or [{}])[0]).get("code", "") or "unknown")
        codes[code] += 1
    errors = sum(codes.values())
    if errors and errors >= alert_settings_global().graph_error_threshold:
        top = max(codes.items(), key=lambda kv: kv[1])[0]
        return [Condition(Alert.Kind.GRAPH_ERRORS, "graph", {"errors": errors, "top_code": top, "codes": dict(codes)},
                          link="/dashboard#graph")]
    return []


def alert_conditions(now: datetime) -> list[Condition]:
    found: list[Condition] = []
    for source in (_channel_conditions, _failure_rate_conditions, _timer_conditions, _graph_conditions, *_sources):
        try:
            found += source(now)
        except Exception:  # noqa: BLE001 - one broken source must not hide the others
            logger.exception("alert source %s failed", getattr(source, "__name__", source))
    return found


@transaction.atomic
def alerts_evaluate(*, now: datetime | None = None) -> dict[str, int]:
    """Open, refresh and resolve alerts from the conditions that hold now; queue notifications."""
    now = now or timezone.now()
    holding = {c.key: c for c in alert_conditions(now)}
    open_alerts = {a.key: a for a in Alert.objects.select_for_update().filter(resolved_at__isnull=True)}
    opened, resolved = [], 0
    for key, condition in holding.items():
        alert = open_alerts.get(key)
        if alert is None:
            alert = Alert.objects.create(kind=condition.kind, key=key, flow_id=condition.flow_id,
                                         params=condition.params, link=condition.link, last_seen_at=now)
            opened.append(alert.pk)
        else:
            alert.params, alert.link, alert.last_seen_at = condition.params, condition.link, now
            alert.save(update_fields=["params", "link", "last_seen_at"])
    for key, alert in open_alerts.items():
        if key not in holding:
            alert.resolved_at = now
            alert.save(update_fields=["resolved_at"])
            resolved += 1
    if opened:
        from flows.monitoring_tasks import alert_notify

        transaction.on_commit(lambda: [alert_notify.delay(pk) for pk in opened])
    return {"open": len(holding), "opened": len(opened), "resolved": resolved}


def alert_send(*, alert_id: int) -> bool:
    """Send a newly opened alert to the team configured for it (the flow's settings, else the
    installation's). Network I/O happens here, outside any transaction. Returns whether it was sent."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None or alert.notified_at is not None:
        return False
    settings = alert_settings_for(alert.flow_id)
    if not settings.notify_channel or not _notifiers:
        return False
    title = alert_title(alert.kind, alert.params)
    text = f"{title['pt-BR']}\n{title['en']}\n{alert.link}"
    try:
        _notifiers[0](settings=settings, subject=f"Fluxo: {title['pt-BR']}"[:200], text=text, alert=alert_as_dict(alert))
    except Exception as exc:  # noqa: BLE001 - kept on the alert for the people reading it
        logger.warning("alert %s not sent: %s", alert.pk, exc)
        Alert.objects.filter(pk=alert.pk).update(notify_error=str(getattr(exc, "message", exc))[:1000])
        return False
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now(), notify_error="")
    return True


def alert_mark_read(*, user, alert_ids: list[int] | None = None) -> int:
    """Mark alerts read for one user (all open ones when ``alert_ids`` is None)."""
    alerts = Alert.objects.all() if alert_ids is not None else Alert.objects.filter(resolved_at__isnull=True)
    if alert_ids is not None:
        alerts = alerts.filter(pk__in=alert_ids)
    count = 0
    for alert in alerts.exclude(read_by=user):
        alert.read_by.add(user)
        count += 1
    return count
