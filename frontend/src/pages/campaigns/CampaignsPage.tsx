// Campaigns: the list, the wizard (a draft: channel, approved template, variables, segment,
// schedule, flow on reply) and the campaign page (check, audience by exclusion reason, estimate,
// preview, test send, start; then live progress, failures by reason, recipients, pause/resume/cancel).
import { useEffect, useMemo, useState } from "react";
import {
  campaignsApi,
  type Audience,
  type Campaign,
  type CampaignOptions,
  type CheckItem,
  type Estimate,
  type Progress,
  type RecipientRow,
} from "../../api/campaigns";
import { formatDateTime, useT, type MessageKey } from "../../i18n";
import { Link, navigate } from "../../router";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, can, errorText, useLoad } from "../ui";

const STATUS_TONE: Record<Campaign["status"], "ok" | "warn" | "bad" | "neutral" | "info"> = {
  draft: "neutral",
  scheduled: "info",
  running: "ok",
  paused: "warn",
  completed: "ok",
  cancelled: "bad",
};

function StatusPill({ status }: { status: Campaign["status"] }) {
  const { t } = useT();
  return (
    <Pill tone={STATUS_TONE[status]} testId="campaign-status">
      {t(`camp.status.${status}` as MessageKey)}
    </Pill>
  );
}

export function CampaignsPage({ user }: PageProps) {
  const { t, language } = useT();
  const { data: campaigns, error } = useLoad(() => campaignsApi.campaigns());
  return (
    <div className="page" data-testid="campaigns-page">
      <PageHeader title={t("nav.campaigns")} subtitle={t("camp.subtitle")}>
        {can(user.roles, "editor") && (
          <Link to="/campaigns/new" className="button primary" data-testid="campaign-new">
            + {t("camp.new")}
          </Link>
        )}
      </PageHeader>
      <ErrorNote error={error} />
      {campaigns && campaigns.length === 0 && <div className="empty-state">{t("camp.empty")}</div>}
      {campaigns && campaigns.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>{t("ws.name")}</th>
              <th>{t("ws.status")}</th>
              <th>{t("camp.template")}</th>
              <th>{t("ws.when")}</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((campaign) => (
              <tr key={campaign.id} data-testid="campaign-row">
                <td>
                  <Link to={`/campaigns/${campaign.id}`}>{campaign.name}</Link>
                </td>
                <td>
                  <StatusPill status={campaign.status} />
                </td>
                <td>{campaign.template_name ?? "—"}</td>
                <td>{formatDateTime(language, campaign.scheduled_at ?? campaign.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function CampaignWizardPage(_props: PageProps) {
  const { t } = useT();
  const { data: options, error: loadError } = useLoad<CampaignOptions>(() => campaignsApi.options());
  const { data: segments } = useLoad(() => campaignsApi.segments());
  const [name, setName] = useState("");
  const [channel, setChannel] = useState<number | null>(null);
  const [template, setTemplate] = useState<number | null>(null);
  const [segment, setSegment] = useState<number | null>(null);
  const [parameters, setParameters] = useState<{ source: string; value: string }[]>([]);
  const [scheduledAt, setScheduledAt] = useState("");
  const [timezone, setTimezone] = useState("America/Sao_Paulo");
  const [replyFlow, setReplyFlow] = useState("");
  const [error, setError] = useState<string | null>(null);

  const chosen = options?.templates.find((tpl) => tpl.id === template) ?? null;
  const templates = useMemo(() => (options?.templates ?? []).filter((tpl) => tpl.channel === null || tpl.channel === channel), [options, channel]);
  useEffect(() => {
    if (options && channel === null && options.channels.length) setChannel(options.channels[0].id);
  }, [options, channel]);
  useEffect(() => {
    const count = chosen?.parameter_count ?? 0;
    setParameters((current) => Array.from({ length: count }, (_, i) => current[i] ?? { source: "field", value: "first_name" }));
  }, [chosen]);

  const save = async () => {
    try {
      const created = await campaignsApi.saveCampaign({
        name,
        channel,
        template,
        segment,
        parameters,
        timezone,
        scheduled_at: scheduledAt ? scheduledAt : null,
        reply_flow_id: replyFlow ? Number(replyFlow) : null,
      });
      navigate(`/campaigns/${created.id}`);
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  return (
    <div className="page" data-testid="campaign-wizard">
      <PageHeader title={t("camp.new")} subtitle={t("camp.subtitle")} />
      <ErrorNote error={loadError ?? error} />
      <section className="card form-grid">
        <label>
          {t("camp.name")}
          <input value={name} onChange={(event) => setName(event.target.value)} data-testid="campaign-name" />
        </label>
        <label>
          {t("camp.channel")}
          <select value={channel ?? ""} onChange={(event) => setChannel(Number(event.target.value))} data-testid="campaign-channel">
            {(options?.channels ?? []).map((item) => (
              <option key={item.id} value={item.id}>
                {item.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("camp.template")}
          <select value={template ?? ""} onChange={(event) => setTemplate(event.target.value ? Number(event.target.value) : null)} data-testid="campaign-template">
            <option value="">—</option>
            {templates.map((tpl) => (
              <option key={tpl.id} value={tpl.id}>
                {tpl.name} ({tpl.language}, {tpl.category})
              </option>
            ))}
          </select>
        </label>
        {chosen && <p className="muted small">{chosen.body_text}</p>}
        {parameters.map((param, index) => (
          <div className="filters" key={index}>
            <span>{`{{${index + 1}}}`}</span>
            <select
              value={param.source}
              onChange={(event) => setParameters(parameters.map((p, i) => (i === index ? { source: event.target.value, value: event.target.value === "field" ? "first_name" : "" } : p)))}
              data-testid="param-source"
            >
              {["field", "attribute", "constant"].map((source) => (
                <option key={source} value={source}>
                  {t(`camp.param.${source}` as MessageKey)}
                </option>
              ))}
            </select>
            {param.source === "field" ? (
              <select value={param.value} onChange={(event) => setParameters(parameters.map((p, i) => (i === index ? { ...p, value: event.target.value } : p)))}>
                {["first_name", "name", "phone"].map((field) => (
                  <option key={field}>{field}</option>
                ))}
              </select>
            ) : (
              <input value={param.value} onChange={(event) => setParameters(parameters.map((p, i) => (i === index ? { ...p, value: event.target.value } : p)))} data-testid="param-value" />
            )}
          </div>
        ))}
        <label>
          {t("camp.segment")}
          <select value={segment ?? ""} onChange={(event) => setSegment(event.target.value ? Number(event.target.value) : null)} data-testid="campaign-segment">
            <option value="">—</option>
            {(segments ?? []).map((item) => (
              <option key={item.id} value={item.id}>
                {item.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("camp.schedule")}
          <input type="datetime-local" value={scheduledAt} onChange={(event) => setScheduledAt(event.target.value)} data-testid="campaign-schedule" />
        </label>
        <label>
          {t("camp.timezone")}
          <input value={timezone} onChange={(event) => setTimezone(event.target.value)} />
        </label>
        <label>
          {t("camp.replyFlow")}
          <input value={replyFlow} onChange={(event) => setReplyFlow(event.target.value.replace(/\D/g, ""))} />
        </label>
        <button type="button" className="primary" onClick={save} disabled={!name.trim()} data-testid="campaign-save">
          {t("camp.save")}
        </button>
      </section>
    </div>
  );
}

function duration(seconds: number, language: string): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} ${language === "en" ? "days" : "dias"}`;
}

function Checks({ items, title, tone }: { items: CheckItem[]; title: string; tone: "bad" | "warn" }) {
  if (!items.length) return null;
  return (
    <div className={tone === "bad" ? "error-note" : "notice"} data-testid={`check-${tone}`}>
      <strong>{title}</strong>
      <ul>
        {items.map((item) => (
          <li key={item.code}>{item.message}</li>
        ))}
      </ul>
    </div>
  );
}

function DraftPanel({ campaign, editable, onChanged }: { campaign: Campaign; editable: boolean; onChanged: () => void }) {
  const { t, language } = useT();
  const { data: check } = useLoad(() => campaignsApi.check(campaign.id), [campaign.id]);
  const { data: estimate } = useLoad<{ audience: Audience; estimate: Estimate }>(() => campaignsApi.estimate(campaign.id), [campaign.id]);
  const { data: preview } = useLoad(() => campaignsApi.preview(campaign.id), [campaign.id]);
  const [phone, setPhone] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const testSend = async () => {
    try {
      const sent = await campaignsApi.testSend(campaign.id, phone);
      setNotice(t("camp.testSent", { text: sent.text }));
      setError(null);
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  const start = async () => {
    try {
      await campaignsApi.act(campaign.id, "start");
      onChanged();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <>
      {check && <Checks items={check.errors} title={t("camp.errors")} tone="bad" />}
      {check && <Checks items={check.warnings} title={t("camp.warnings")} tone="warn" />}
      {estimate && (
        <section className="card" data-testid="campaign-audience">
          <h2>{t("camp.audience")}</h2>
          <p>
            <strong data-testid="audience-included">{t("camp.included", { n: estimate.audience.included })}</strong> / {estimate.audience.total}
          </p>
          <h3>{t("camp.excludedBy")}</h3>
          <ul>
            {Object.entries(estimate.audience.excluded)
              .filter(([, n]) => n > 0)
              .map(([reason, n]) => (
                <li key={reason} data-testid="excluded-reason">
                  {t(`camp.reason.${reason}` as MessageKey)}: {n}
                </li>
              ))}
          </ul>
          <h3>{t("camp.estimate")}</h3>
          <p data-testid="campaign-estimate">
            {t("camp.estimateText", { time: duration(estimate.estimate.seconds, language) })}
            {estimate.estimate.spreads_over_days && <> — {t("camp.spreads", { days: estimate.estimate.days })}</>}
          </p>
        </section>
      )}
      {preview && preview.samples.length > 0 && (
        <section className="card">
          <h2>{t("camp.preview")}</h2>
          {preview.samples.map((sample) => (
            <p key={sample.contact.id} className="bubble" data-testid="campaign-preview">
              <span className="muted small">{sample.contact.name || sample.contact.phone}: </span>
              {sample.text}
            </p>
          ))}
        </section>
      )}
      <ErrorNote error={error} />
      {notice && (
        <p className="notice" data-testid="test-sent">
          {notice}
        </p>
      )}
      {editable && (
        <section className="card filters">
          <input placeholder="+5511987654321" value={phone} onChange={(event) => setPhone(event.target.value)} aria-label={t("camp.testPhone")} data-testid="test-phone" />
          <button type="button" onClick={testSend} disabled={!phone} data-testid="test-send">
            {t("camp.testSend")}
          </button>
          <button type="button" className="primary" onClick={start} disabled={!check || check.errors.length > 0} data-testid="campaign-start">
            {t("camp.start")}
          </button>
        </section>
      )}
    </>
  );
}

const COUNT_KEYS = ["queued", "sent", "delivered", "read", "failed", "replied"] as const;

function ProgressPanel({ campaign, editable, onChanged }: { campaign: Campaign; editable: boolean; onChanged: () => void }) {
  const { t, language } = useT();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [rows, setRows] = useState<RecipientRow[]>([]);
  const [filter, setFilter] = useState("");
  const [q, setQ] = useState("");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const next = await campaignsApi.progress(campaign.id);
        if (!stopped) setProgress(next);
      } catch (failure) {
        if (!stopped) setError(errorText(failure));
      }
    };
    void tick();
    const timer = window.setInterval(tick, 1500); // live while the page is open
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [campaign.id]);
  useEffect(() => {
    const query = new URLSearchParams({ status: filter, q, limit: "100" }).toString();
    campaignsApi
      .recipients(campaign.id, query)
      .then((data) => setRows(data.results))
      .catch((failure) => setError(errorText(failure)));
  }, [campaign.id, filter, q, progress?.counts.sent_total]);

  const act = async (verb: "pause" | "resume" | "cancel") => {
    if (verb === "cancel" && !window.confirm(t("camp.confirmCancel"))) return;
    try {
      await campaignsApi.act(campaign.id, verb);
      onChanged();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  const counts = progress?.counts ?? {};
  const total = counts.to_send ?? 0;
  const value = (key: string) => (key === "sent" ? counts.sent_total : key === "delivered" ? counts.delivered_total : counts[key]) ?? 0;
  const status = progress?.status ?? campaign.status;
  return (
    <>
      <ErrorNote error={error} />
      {progress?.pause_reason && <p className="notice">{progress.pause_reason}</p>}
      {editable && (
        <div className="filters">
          {(status === "running" || status === "scheduled") && (
            <button type="button" onClick={() => act("pause")} data-testid="campaign-pause">
              ❚❚ {t("camp.pause")}
            </button>
          )}
          {status === "paused" && (
            <button type="button" className="primary" onClick={() => act("resume")} data-testid="campaign-resume">
              ▶ {t("camp.resume")}
            </button>
          )}
          {!["completed", "cancelled"].includes(status) && (
            <button type="button" className="danger" onClick={() => act("cancel")} data-testid="campaign-cancel">
              {t("camp.cancel")}
            </button>
          )}
        </div>
      )}
      <section className="card" data-testid="campaign-progress">
        <h2>{t("camp.progress")}</h2>
        <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round((progress?.progress ?? 0) * 100)} data-testid="progress-bar">
          <div className="progress-fill" style={{ width: `${Math.round((progress?.progress ?? 0) * 100)}%` }} />
        </div>
        <p className="muted small" data-testid="progress-value">
          {Math.round((progress?.progress ?? 0) * 100)}% · {total}
        </p>
        <div className="stat-row">
          {COUNT_KEYS.map((key) => (
            <div key={key} className="stat" data-testid={`count-${key}`}>
              <strong>{value(key)}</strong>
              <span>{t(`camp.count.${key}` as MessageKey)}</span>
              {progress && key in progress.rates && <span className="muted small">{Math.round(progress.rates[key] * 100)}%</span>}
            </div>
          ))}
        </div>
        {progress && progress.runs_started > 0 && <p className="muted small">{t("camp.runs", { n: progress.runs_started })}</p>}
      </section>
      {progress && progress.failures.length > 0 && (
        <section className="card" data-testid="campaign-failures">
          <h2>{t("camp.failures")}</h2>
          <ul>
            {progress.failures.map((failure) => (
              <li key={failure.code}>
                <strong>{failure.code}</strong> × {failure.count} {failure.meaning && <span className="muted">— {failure.meaning}</span>}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="card" data-testid="campaign-recipients">
        <h2>{t("camp.recipients")}</h2>
        <div className="filters">
          <input type="search" placeholder={t("camp.search")} value={q} onChange={(event) => setQ(event.target.value)} />
          <select value={filter} onChange={(event) => setFilter(event.target.value)} aria-label={t("ws.status")} data-testid="recipient-filter">
            <option value="">{t("camp.allStatuses")}</option>
            {["pending", "excluded", ...COUNT_KEYS].map((key) => (
              <option key={key} value={key}>
                {t(`camp.count.${key}` as MessageKey)}
              </option>
            ))}
          </select>
          <a className="button" href={`/api/campaigns/${campaign.id}/recipients/?export=csv&status=${filter}`} data-testid="recipients-export">
            {t("camp.export")}
          </a>
        </div>
        <table className="table">
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} data-testid="recipient-row">
                <td>{row.phone}</td>
                <td>{row.name}</td>
                <td>{row.reason ? t(`camp.reason.${row.reason}` as MessageKey) : row.status}</td>
                <td className="muted small">{row.error_code ? `${row.error_code} ${row.meaning}` : formatDateTime(language, row.sent_at)}</td>
                <td>{row.run_id ? <Link to={`/runs/${row.run_id}`}>▶ {row.run_id}</Link> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

export function CampaignPage({ user, params }: PageProps) {
  const { t } = useT();
  const id = Number(params.id);
  const { data: campaign, error, reload } = useLoad(() => campaignsApi.campaign(id), [id]);
  const editable = can(user.roles, "editor");
  return (
    <div className="page" data-testid="campaign-page">
      <PageHeader title={campaign?.name ?? t("common.loading")} subtitle={campaign ? `${campaign.template_name ?? "—"} · ${campaign.channel_name ?? "—"}` : undefined}>
        {campaign && <StatusPill status={campaign.status} />}
      </PageHeader>
      <ErrorNote error={error} />
      {campaign && campaign.status === "draft" && <DraftPanel campaign={campaign} editable={editable} onChanged={reload} />}
      {campaign && campaign.status !== "draft" && <ProgressPanel key={campaign.status} campaign={campaign} editable={editable} onChanged={reload} />}
    </div>
  );
}
