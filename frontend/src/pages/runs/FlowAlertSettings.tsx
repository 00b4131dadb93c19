// A flow's alert threshold (failure rate over 5 minutes) and where its alerts are also sent.
import { useEffect, useState } from "react";
import { ApiError } from "../../api/client";
import { runsApi, type AlertSettingsData } from "../../api/runs";
import { useT } from "../../i18n";

export function FlowAlertSettings({ flowId, canEdit, onClose }: { flowId: number; canEdit: boolean; onClose: () => void }) {
  const { t } = useT();
  const [data, setData] = useState<AlertSettingsData | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    runsApi.flowAlertSettings(flowId).then(setData, (failure: Error) => setMessage(failure.message));
  }, [flowId]);

  if (!data) return <div className="alert-settings popover">{message ?? t("common.loading")}</div>;
  const change = (changes: Partial<AlertSettingsData>) => setData({ ...data, ...changes });
  const save = async () => {
    try {
      const { flow: _flow, inherited: _inherited, ...body } = data;
      void _flow;
      void _inherited;
      setData(await runsApi.saveFlowAlertSettings(flowId, body));
      setMessage(t("alerts.saved"));
    } catch (failure) {
      if (failure instanceof ApiError) {
        const details = Object.values(failure.body.details ?? {}).flat().join(" ");
        setMessage(`${failure.body.message} ${details}`.trim());
      } else setMessage(String(failure));
    }
  };
  return (
    <form className="alert-settings popover" data-testid="alert-settings" onSubmit={(event) => { event.preventDefault(); void save(); }}>
      <header>
        <strong>{t("alerts.settings")}</strong>
        <button type="button" className="icon-button" aria-label={t("common.close")} onClick={onClose}>
          ×
        </button>
      </header>
      <fieldset disabled={!canEdit}>
        <label className="field checkbox">
          <span>{t("alerts.enabled")}</span>
          <input type="checkbox" checked={data.failure_rate_enabled} onChange={(event) => change({ failure_rate_enabled: event.target.checked })} />
        </label>
        <label className="field">
          <span>{t("alerts.threshold")}</span>
          <input type="number" min={0} max={100} step={1} value={Math.round(data.failure_rate_threshold * 100)} onChange={(event) => change({ failure_rate_threshold: Number(event.target.value) / 100 })} data-testid="alert-threshold" />
        </label>
        <label className="field">
          <span>{t("alerts.minRuns")}</span>
          <input type="number" min={1} value={data.failure_min_runs} onChange={(event) => change({ failure_min_runs: Number(event.target.value) })} data-testid="alert-min-runs" />
        </label>
        <label className="field">
          <span>{t("alerts.notify")}</span>
          <select value={data.notify_channel} onChange={(event) => change({ notify_channel: event.target.value as AlertSettingsData["notify_channel"] })} data-testid="alert-channel">
            <option value="">{t("alerts.notify.none")}</option>
            <option value="email">{t("alerts.notify.email")}</option>
            <option value="slack">{t("alerts.notify.slack")}</option>
            <option value="webhook">{t("alerts.notify.webhook")}</option>
          </select>
        </label>
        {data.notify_channel === "email" && (
          <>
            <label className="field">
              <span>{t("alerts.to")}</span>
              <input value={data.notify_to.join(", ")} onChange={(event) => change({ notify_to: event.target.value.split(",").map((item) => item.trim()).filter(Boolean) })} />
            </label>
            <label className="field">
              <span>{t("alerts.team")}</span>
              <input value={data.notify_team} onChange={(event) => change({ notify_team: event.target.value })} />
            </label>
          </>
        )}
        {data.notify_channel === "slack" && (
          <label className="field">
            <span>{t("alerts.credential")}</span>
            <input value={data.notify_credential} onChange={(event) => change({ notify_credential: event.target.value })} />
          </label>
        )}
        {data.notify_channel === "webhook" && (
          <label className="field">
            <span>{t("alerts.subscription")}</span>
            <input value={data.notify_subscription} onChange={(event) => change({ notify_subscription: event.target.value })} />
          </label>
        )}
        <button type="submit" className="primary" data-testid="alert-save">
          {t("alerts.save")}
        </button>
      </fieldset>
      {message && <p className="small" role="status">{message}</p>}
    </form>
  );
}
