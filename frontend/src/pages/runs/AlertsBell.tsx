// The bell: unread alerts (channel paused, webhook disabled, failure rate, timer backlog, Graph
// API errors), each linking to the runs or messages concerned. Polled every 30 seconds.
import { useCallback, useEffect, useState } from "react";
import { runsApi, type AlertItem } from "../../api/runs";
import { formatDateTime, useT } from "../../i18n";
import { Link } from "../../router";
import { BellIcon } from "./BellIcon";
import "./runs.css";

export function AlertsBell() {
  const { t, label, language } = useT();
  const [open, setOpen] = useState(false);
  const [unread, setUnread] = useState(0);
  const [alerts, setAlerts] = useState<AlertItem[]>([]);

  const load = useCallback(async () => {
    try {
      const data = await runsApi.alerts();
      setUnread(data.unread);
      setAlerts(data.alerts);
    } catch {
      /* the bell stays as it was; the next poll tries again */
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 30_000);
    return () => clearInterval(timer);
  }, [load]);

  return (
    <div className="alerts-bell">
      <button type="button" className="bell" aria-label={t("alerts.bell")} aria-expanded={open} onClick={() => setOpen(!open)} data-testid="alerts-bell">
        <BellIcon />
        {unread > 0 && <span className="bell-count" data-testid="alerts-unread">{unread}</span>}
      </button>
      {open && (
        <div className="alerts-popover" role="dialog" aria-label={t("alerts.bell")} data-testid="alerts-popover">
          {alerts.length === 0 ? (
            <p className="muted">{t("alerts.empty")}</p>
          ) : (
            <ul>
              {alerts.map((alert) => (
                <li key={alert.id} className={`${alert.read ? "" : "unread"} ${alert.resolved_at ? "resolved" : ""}`} data-testid="alert-item">
                  <p>{label(alert.title)}</p>
                  <span className="muted small">
                    {alert.resolved_at ? t("alerts.resolved") : t("alerts.open", { at: formatDateTime(language, alert.opened_at) })}
                  </span>{" "}
                  {alert.link && (
                    <Link to={alert.link} onClick={() => setOpen(false)} data-testid="alert-link">
                      {t("alerts.look")} →
                    </Link>
                  )}
                </li>
              ))}
            </ul>
          )}
          {unread > 0 && (
            <button type="button" onClick={() => runsApi.markAlertsRead().then(load, () => undefined)} data-testid="alerts-mark-read">
              {t("alerts.markRead")}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
