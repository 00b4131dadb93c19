// RapidPro-style path counts on the editor's canvas: how many runs entered each node, left by
// each port, ended or failed there, over a period. Toggled from the editor toolbar; the counts
// come from the hourly roll-up (GET /api/flows/<id>/path-counts/).
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { periodSince, runsApi, type PathCounts } from "../../api/runs";
import { formatDateTime, useT } from "../../i18n";
import { Link } from "../../router";
import { BellIcon } from "./BellIcon";
import { FlowAlertSettings } from "./FlowAlertSettings";
import { CanvasOverlayContext, type NodeOverlay } from "./overlay";
import "./runs.css";

export const COUNT_PERIODS = ["24h", "7d", "30d"] as const;
export type CountPeriod = (typeof COUNT_PERIODS)[number];

export function PathCountsLayer({ flowId, period, children }: { flowId: number; period: CountPeriod | null; children: ReactNode }) {
  const { t, language } = useT();
  const [counts, setCounts] = useState<PathCounts | null>(null);

  useEffect(() => {
    if (!period) {
      setCounts(null);
      return;
    }
    let alive = true;
    const load = () => runsApi.pathCounts(flowId, periodSince(period)).then((data) => alive && setCounts(data), () => undefined);
    void load();
    const timer = setInterval(load, 60_000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [flowId, period]);

  const overlay = useMemo(() => {
    if (!counts) return null;
    const byNode: Record<string, NodeOverlay> = {};
    for (const [nodeId, node] of Object.entries(counts.nodes)) {
      const failed = node.ended.failed ?? 0;
      const ended = Object.entries(node.ended).filter(([status]) => status !== "failed").reduce((sum, [, n]) => sum + n, 0);
      byNode[nodeId] = {
        badge: (
          <span className="path-counts" data-testid={`counts-${nodeId}`}>
            <span className="entered">{t(node.entered === 1 ? "counts.enteredOne" : "counts.entered", { n: node.entered })}</span>
            {failed > 0 && <span className="failed">{t(failed === 1 ? "counts.failedHereOne" : "counts.failedHere", { n: failed })}</span>}
            {ended > 0 && <span className="ended">{t(ended === 1 ? "counts.endedHereOne" : "counts.endedHere", { n: ended })}</span>}
            {node.errors > 0 && failed === 0 && <span className="failed">{t("counts.errors", { n: node.errors })}</span>}
          </span>
        ),
        ports: Object.fromEntries(Object.entries(node.ports).map(([port, n]) => [port, n])),
      };
    }
    return byNode;
  }, [counts, t]);

  return (
    <CanvasOverlayContext.Provider value={overlay}>
      {period && counts && (
        <div className="counts-note muted small" data-testid="counts-note">
          {t("counts.updated", { at: counts.updated_at ? formatDateTime(language, counts.updated_at) : "—" })}
        </div>
      )}
      {children}
    </CanvasOverlayContext.Provider>
  );
}

/** The editor toolbar's additions: "Execuções" (this flow's runs), the counts toggle and its period, alerts. */
export function RunsToolbarItems({
  flowId,
  period,
  onPeriod,
  canEdit,
}: {
  flowId: number;
  period: CountPeriod | null;
  onPeriod: (period: CountPeriod | null) => void;
  canEdit: boolean;
}) {
  const { t } = useT();
  const [settingsOpen, setSettingsOpen] = useState(false);
  return (
    <span className="runs-toolbar-items">
      <Link to={`/runs?flow=${flowId}`} className="button-link" data-testid="flow-runs-link">
        {t("nav.runs")}
      </Link>
      <button type="button" aria-pressed={period !== null} title={t("counts.toggleHint")} onClick={() => onPeriod(period ? null : "7d")} data-testid="toggle-counts">
        # {t("counts.toggle")}
      </button>
      {period && (
        <select aria-label={t("counts.period")} value={period} onChange={(event) => onPeriod(event.target.value as CountPeriod)} data-testid="counts-period">
          {COUNT_PERIODS.map((name) => (
            <option key={name} value={name}>
              {t(`runsPage.period.${name}`)}
            </option>
          ))}
        </select>
      )}
      <button type="button" onClick={() => setSettingsOpen(!settingsOpen)} aria-pressed={settingsOpen} data-testid="open-alert-settings" title={t("alerts.settings")}>
        <BellIcon size={14} /> {t("alerts.bell")}
      </button>
      {settingsOpen && <FlowAlertSettings flowId={flowId} canEdit={canEdit} onClose={() => setSettingsOpen(false)} />}
    </span>
  );
}
