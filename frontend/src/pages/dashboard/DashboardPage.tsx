// The dashboard: a period (and optionally one flow), figures from the hourly roll-up: runs and
// failures, integrations, AI, Graph API errors, message rates, reply time, live gauges, channels.
import { useCallback, useEffect, useState } from "react";
import { endpoints } from "../../api/endpoints";
import { periodSince, runsApi, type Dashboard, type SeriesPoint } from "../../api/runs";
import type { FlowSummary } from "../../api/types";
import { formatDateTime, useT } from "../../i18n";
import { Link } from "../../router";
import { formatDuration, formatNumber, formatPercent } from "../runs/format";
import "../runs/runs.css";

const PERIODS = ["24h", "7d", "30d"] as const;

/** Runs per point as stacked bars (completed, failed, expired) with messages sent as a line. */
function SeriesChart({ points, step }: { points: SeriesPoint[]; step: "hour" | "day" }) {
  const { t, language } = useT();
  const width = 900;
  const height = 180;
  const pad = 24;
  const max = Math.max(1, ...points.map((p) => Math.max(p["runs.completed"] + p["runs.failed"] + p["runs.expired"], p["runs.started"], p["msg.sent"])));
  const slot = (width - pad * 2) / Math.max(1, points.length);
  const y = (value: number) => height - pad - (value / max) * (height - pad * 2);
  const line = points.map((p, i) => `${i === 0 ? "M" : "L"}${pad + slot * i + slot / 2},${y(p["msg.sent"])}`).join(" ");
  const label = (iso: string) =>
    new Date(iso).toLocaleString(language === "en" ? "en-US" : "pt-BR", step === "day" ? { day: "2-digit", month: "2-digit" } : { hour: "2-digit", minute: "2-digit" });
  const every = Math.ceil(points.length / 12);
  return (
    <svg className="series-chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={t("dash.series")} data-testid="series-chart">
      <line x1={pad} x2={width - pad} y1={height - pad} y2={height - pad} className="axis" />
      <text x={pad} y={12} className="tick">
        {formatNumber(max, language)}
      </text>
      {points.map((p, i) => {
        const x = pad + slot * i + slot * 0.15;
        const w = Math.max(1, slot * 0.7);
        let base = height - pad;
        return (
          <g key={p.at}>
            <title>{`${label(p.at)} · ${t("dash.started")}: ${p["runs.started"]} · ${t("dash.completed")}: ${p["runs.completed"]} · ${t("dash.failed")}: ${p["runs.failed"]} · ${t("dash.sent")}: ${p["msg.sent"]}`}</title>
            {(["runs.completed", "runs.failed", "runs.expired"] as const).map((metric) => {
              const h = (p[metric] / max) * (height - pad * 2);
              base -= h;
              return h > 0 ? <rect key={metric} x={x} y={base} width={w} height={h} className={`bar ${metric.replace(".", "-")}`} /> : null;
            })}
            {i % every === 0 && (
              <text x={pad + slot * i + slot / 2} y={height - 6} className="tick" textAnchor="middle">
                {label(p.at)}
              </text>
            )}
          </g>
        );
      })}
      {points.length > 1 && <path d={line} className="line msg-sent" />}
    </svg>
  );
}

function Card({ label, value, testId, tone }: { label: string; value: string; testId?: string; tone?: string }) {
  return (
    <div className={`card ${tone ?? ""}`} data-testid={testId}>
      <span className="card-value">{value}</span>
      <span className="card-label">{label}</span>
    </div>
  );
}

function reasonQuery(reason: string): string {
  // Counters fold digits to "#"; the text before the first one finds the runs.
  return reason.split("#")[0].trim().slice(0, 120);
}

export function DashboardPage() {
  const { t, tOptional, language } = useT();
  const initial = new URLSearchParams(window.location.search);
  const [period, setPeriod] = useState<(typeof PERIODS)[number]>((initial.get("period") as "24h") || "24h");
  const [flow, setFlow] = useState<number | undefined>(Number(initial.get("flow")) || undefined);
  const [flows, setFlows] = useState<FlowSummary[]>([]);
  const [data, setData] = useState<Dashboard | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    endpoints.flows("", "").then(setFlows, () => setFlows([]));
  }, []);

  const load = useCallback(async () => {
    try {
      setData(await runsApi.dashboard(periodSince(period), undefined, flow));
      setError(null);
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [period, flow]);

  useEffect(() => {
    void load();
    const query = new URLSearchParams({ period, ...(flow ? { flow: String(flow) } : {}) });
    window.history.replaceState(null, "", `/dashboard?${query.toString()}`);
    const timer = setInterval(() => void load(), 30_000);
    return () => clearInterval(timer);
  }, [load, period, flow]);

  const since = periodSince(period) ?? "";
  const runsLink = (extra: Record<string, string>) =>
    `/runs?${new URLSearchParams({ ...(flow ? { flow: String(flow) } : {}), since, ...extra }).toString()}`;

  return (
    <div className="dashboard-page" data-testid="dashboard">
      <div className="list-toolbar">
        <h1>{t("dash.title")}</h1>
        <select aria-label={t("runsPage.flow")} value={flow ?? ""} onChange={(event) => setFlow(Number(event.target.value) || undefined)} data-testid="dash-flow">
          <option value="">{t("dash.allFlows")}</option>
          {flows.map((item) => (
            <option key={item.id} value={item.id}>
              {item.name}
            </option>
          ))}
        </select>
        <select aria-label={t("runsPage.period")} value={period} onChange={(event) => setPeriod(event.target.value as "24h")} data-testid="dash-period">
          {PERIODS.map((name) => (
            <option key={name} value={name}>
              {t(`runsPage.period.${name}`)}
            </option>
          ))}
        </select>
        <span className="spacer" />
        <span className="muted small" data-testid="dash-updated">
          {data?.updated_at ? t("dash.updated", { at: formatDateTime(language, data.updated_at) }) : t("dash.neverUpdated")}
        </span>
      </div>
      {error && <p className="field-errors" role="alert">{error}</p>}
      {!data ? (
        <p className="muted">{t("common.loading")}</p>
      ) : (
        <>
          <div className="cards">
            <Card label={t("dash.started")} value={formatNumber(data.runs.started, language)} testId="card-started" />
            <Card label={t("dash.completed")} value={formatNumber(data.runs.completed, language)} tone="ok" testId="card-completed" />
            <Link to={runsLink({ status: "failed" })} className="card-link" data-testid="card-failed-link">
              <Card label={t("dash.failed")} value={formatNumber(data.runs.failed, language)} tone={data.runs.failed ? "danger" : ""} testId="card-failed" />
            </Link>
            <Card label={t("dash.expired")} value={formatNumber(data.runs.expired, language)} testId="card-expired" />
            <Card label={t("dash.failureRate")} value={formatPercent(data.runs.failure_rate, language)} tone={(data.runs.failure_rate ?? 0) > 0.2 ? "danger" : ""} />
            <Card label={t("dash.waiting")} value={formatNumber(data.gauges.runs_waiting, language)} testId="card-waiting" />
            <Card label={t("dash.overdue")} value={formatNumber(data.gauges.timers_overdue, language)} tone={data.gauges.timers_overdue ? "warn" : ""} />
          </div>
          <section className="panel">
            <h2>{t("dash.series")}</h2>
            <SeriesChart points={data.series} step={data.step} />
            <p className="legend small">
              <span className="swatch runs-completed" /> {t("dash.completed")} <span className="swatch runs-failed" /> {t("dash.failed")}{" "}
              <span className="swatch runs-expired" /> {t("dash.expired")} <span className="swatch msg-sent" /> {t("dash.sent")}
            </p>
          </section>
          <div className="grid-2">
            <section className="panel" data-testid="dash-reasons">
              <h2>{t("dash.reasons")}</h2>
              {data.failure_reasons.length === 0 ? (
                <p className="muted">{t("dash.noFailures")}</p>
              ) : (
                <ol className="ranked">
                  {data.failure_reasons.map((reason) => (
                    <li key={reason.key}>
                      <span className="count">{formatNumber(reason.count, language)}</span> <span className="reason">{reason.key}</span>{" "}
                      <Link to={runsLink({ status: "failed", q: reasonQuery(reason.key) })} data-testid="reason-runs">
                        {t("dash.seeRuns")} →
                      </Link>
                    </li>
                  ))}
                </ol>
              )}
            </section>
            <section className="panel" data-testid="dash-messages">
              <h2>{t("dash.messages")}</h2>
              <div className="cards small-cards">
                <Card label={t("dash.sent")} value={formatNumber(data.messages.sent, language)} />
                <Card label={t("dash.delivered")} value={formatNumber(data.messages.delivered, language)} />
                <Card label={t("dash.read")} value={formatNumber(data.messages.read, language)} />
                <Card label={t("dash.msgFailed")} value={formatNumber(data.messages.failed, language)} tone={data.messages.failed ? "danger" : ""} />
                <Card label={t("dash.deliveryRate")} value={formatPercent(data.messages.delivery_rate, language)} testId="card-delivery-rate" />
                <Card label={t("dash.readRate")} value={formatPercent(data.messages.read_rate, language)} />
                <Card label={t("dash.replies")} value={formatNumber(data.messages.replies, language)} />
              </div>
              <h3>{t("dash.replyTime")}</h3>
              <p>
                {t("dash.median")}: <strong>{formatDuration(data.reply_time.median_seconds, language)}</strong> · {t("dash.p90")}:{" "}
                <strong>{formatDuration(data.reply_time.p90_seconds, language)}</strong>{" "}
                <span className="muted small">({t("dash.answered", { n: data.reply_time.answered })})</span>
              </p>
            </section>
          </div>
          <div className="grid-2">
            <section className="panel" data-testid="dash-http">
              <h2>{t("dash.http")}</h2>
              {data.http.length === 0 ? (
                <p className="muted">{t("dash.noHttp")}</p>
              ) : (
                <table className="compact">
                  <thead>
                    <tr>
                      <th>{t("dash.host")}</th>
                      <th>{t("dash.calls")}</th>
                      <th>{t("dash.errors")}</th>
                      <th>{t("dash.timeouts")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.http.map((row) => (
                      <tr key={row.host} className={row.errors ? "has-errors" : ""}>
                        <td>
                          <code>{row.host}</code>
                        </td>
                        <td>{formatNumber(row.calls, language)}</td>
                        <td>{formatNumber(row.errors, language)}</td>
                        <td>{formatNumber(row.timeouts, language)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <h3>{t("dash.ai")}</h3>
              <p>
                {t("dash.aiCalls")}: <strong>{formatNumber(data.ai.calls, language)}</strong> · {t("dash.aiFailures")}:{" "}
                <strong>{formatNumber(data.ai.failures, language)}</strong> · {t("dash.handoffs")}: <strong>{formatNumber(data.ai.handoffs, language)}</strong>
              </p>
              {data.ai.by_code.length > 0 && (
                <p className="small muted">{data.ai.by_code.map((item) => `${item.key}: ${item.count}`).join(" · ")}</p>
              )}
            </section>
            <section className="panel" id="graph" data-testid="dash-graph">
              <h2>{t("dash.graph")}</h2>
              {data.graph_errors.length === 0 ? (
                <p className="muted">{t("dash.noGraph")}</p>
              ) : (
                <table className="compact">
                  <thead>
                    <tr>
                      <th>{t("dash.code")}</th>
                      <th>{t("dash.requestErrors")}</th>
                      <th>{t("dash.statusErrors")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.graph_errors.map((row) => (
                      <tr key={row.code}>
                        <td>
                          <code>{row.code}</code> <span className="muted small">{row.reason ?? ""}</span>
                        </td>
                        <td>{row.request}</td>
                        <td>{row.status}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>
          <div className="grid-2">
            {!flow && (
              <section className="panel" data-testid="dash-flows">
                <h2>{t("dash.perFlow")}</h2>
                <table className="compact">
                  <thead>
                    <tr>
                      <th>{t("runsPage.flow")}</th>
                      <th>{t("dash.started")}</th>
                      <th>{t("dash.failed")}</th>
                      <th>{t("dash.sent")}</th>
                      <th>{t("dash.deliveryRate")}</th>
                      <th>{t("dash.readRate")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.flows.map((row) => (
                      <tr key={row.flow_id}>
                        <td>
                          <button type="button" className="link" onClick={() => setFlow(row.flow_id)}>
                            {row.name}
                          </button>
                        </td>
                        <td>{formatNumber(row["runs.started"], language)}</td>
                        <td>
                          {row["runs.failed"] ? <Link to={`/runs?flow=${row.flow_id}&status=failed&since=${encodeURIComponent(since)}`}>{formatNumber(row["runs.failed"], language)}</Link> : 0}
                        </td>
                        <td>{formatNumber(row["msg.sent"], language)}</td>
                        <td>{formatPercent(row.delivery_rate, language)}</td>
                        <td>{formatPercent(row.read_rate, language)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            )}
            <section className="panel" data-testid="dash-templates">
              <h2>{t("dash.perTemplate")}</h2>
              {data.templates.length === 0 ? (
                <p className="muted">{t("dash.none")}</p>
              ) : (
                <table className="compact">
                  <thead>
                    <tr>
                      <th>{t("dash.template")}</th>
                      <th>{t("dash.sent")}</th>
                      <th>{t("dash.deliveryRate")}</th>
                      <th>{t("dash.readRate")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.templates.map((row) => (
                      <tr key={row.template}>
                        <td>
                          <code>{row.template}</code>
                        </td>
                        <td>{formatNumber(row["msg.sent"], language)}</td>
                        <td>{formatPercent(row.delivery_rate, language)}</td>
                        <td>{formatPercent(row.read_rate, language)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>
          <div className="grid-2">
            <section className="panel">
              <h2>{t("dash.now")}</h2>
              <div className="cards small-cards">
                <Card label={t("dash.active")} value={formatNumber(data.gauges.runs_active, language)} />
                <Card label={t("dash.waiting")} value={formatNumber(data.gauges.runs_waiting, language)} />
                <Card label={t("dash.overdue")} value={`${formatNumber(data.gauges.timers_overdue, language)}${data.gauges.timers_lateness_seconds ? ` (${formatDuration(data.gauges.timers_lateness_seconds, language)})` : ""}`} />
                <Card label={t("dash.pending")} value={formatNumber(data.gauges.events_pending, language)} />
                <Card label={t("dash.queued")} value={formatNumber(data.gauges.messages_queued, language)} />
              </div>
            </section>
            <section className="panel" id="channels" data-testid="dash-channels">
              <h2>{t("dash.channels")}</h2>
              <table className="compact">
                <thead>
                  <tr>
                    <th>{t("dash.channel")}</th>
                    <th>{t("runsPage.status")}</th>
                    <th>{t("dash.quality")}</th>
                    <th>{t("dash.tier")}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.channels.map((channel) => (
                    <tr key={channel.id} className={channel.paused ? "has-errors" : ""}>
                      <td>
                        {channel.name} <span className="muted small">{channel.kind}</span>
                      </td>
                      <td>
                        {channel.paused ? (
                          <span className="danger-text" title={channel.pause_reason}>
                            {t("dash.paused")}: {channel.pause_reason}
                          </span>
                        ) : (
                          t("dash.running")
                        )}
                      </td>
                      <td>{channel.quality_rating || <span className="muted">{t("dash.unknown")}</span>}</td>
                      <td>{channel.messaging_limit_tier ? (tOptional(`tier.${channel.messaging_limit_tier}`) ?? channel.messaging_limit_tier) : <span className="muted">{t("dash.unknown")}</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </div>
        </>
      )}
    </div>
  );
}
