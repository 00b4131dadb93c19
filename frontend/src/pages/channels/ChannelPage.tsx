// One channel: connection and token check, quality and limits, webhook arrivals, pause/resume,
// templates, and settings whose secrets are write-only (a blank field keeps the stored value).
import { useState } from "react";
import { ws, type ChannelHealth } from "../../api/workspace";
import { formatDateTime, useT } from "../../i18n";
import { Link } from "../../router";
import type { PageProps } from "../../routes";
import { CopyField, ErrorNote, PageHeader, Pill, errorText, useLoad } from "../ui";
import { channelState } from "./ChannelsPage";
import { CheckResult, QualityPill, tierLabel } from "./CheckResult";
import type { GraphCheck } from "../../api/workspace";

function Settings({ channel, onSaved }: { channel: ChannelHealth; onSaved: (next: ChannelHealth) => void }) {
  const { t } = useT();
  const [form, setForm] = useState({ name: channel.name, access_token: "", app_secret: "", verify_token: "" });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  return (
    <form
      className="card"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        try {
          onSaved(await ws.channelUpdate(channel.id, form));
          setForm({ ...form, access_token: "", app_secret: "", verify_token: "" });
          setSaved(true);
        } catch (failure) {
          setError(errorText(failure));
        }
      }}
    >
      <h2>{t("ws.channel.settings")}</h2>
      <label className="field">
        <span>{t("ws.name")}</span>
        <input value={form.name} onChange={(event) => setForm({ ...form, name: event.target.value })} />
      </label>
      {channel.kind === "whatsapp_cloud" && (
        <>
          <label className="field">
            <span>{t("ws.connect.token")}</span>
            <input
              type="password"
              autoComplete="off"
              value={form.access_token}
              placeholder={channel.access_token_masked ? `${channel.access_token_masked} — ${t("ws.secret.keep")}` : ""}
              onChange={(event) => setForm({ ...form, access_token: event.target.value })}
              data-testid="channel-new-token"
            />
          </label>
          <label className="field">
            <span>{t("ws.connect.appSecret")}</span>
            <input
              type="password"
              autoComplete="off"
              value={form.app_secret}
              placeholder={channel.app_secret_set ? `•••• — ${t("ws.secret.keep")}` : ""}
              onChange={(event) => setForm({ ...form, app_secret: event.target.value })}
            />
          </label>
          <label className="field">
            <span>{t("ws.connect.verifyToken")}</span>
            <input
              type="password"
              autoComplete="off"
              value={form.verify_token}
              placeholder={channel.verify_token_masked ? `${channel.verify_token_masked} — ${t("ws.secret.keep")}` : ""}
              onChange={(event) => setForm({ ...form, verify_token: event.target.value })}
              data-testid="channel-new-verify-token"
            />
          </label>
        </>
      )}
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary">
          {t("ws.save")}
        </button>
        {saved && <span className="muted">✓ {t("ws.saved")}</span>}
      </div>
    </form>
  );
}

/** Meta's reason for the pause in the reader's language (known codes), with Meta's own words below. */
function PauseReason({ reason }: { reason: string }) {
  const { tOptional } = useT();
  const code = /^(\d+):/.exec(reason)?.[1];
  const explained = code ? tOptional(`ws.pauseCode.${code}`) : undefined;
  if (!explained) return <p>{reason}</p>;
  return (
    <>
      <p>{explained}</p>
      <p className="small muted">{reason}</p>
    </>
  );
}

export function ChannelPage({ params }: PageProps) {
  const { t, language } = useT();
  const id = Number(params.id);
  const { data: channel, error, setData } = useLoad(() => ws.channelHealth(id), [id]);
  const [check, setCheck] = useState<GraphCheck | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (error) return <div className="page"><ErrorNote error={error} /></div>;
  if (!channel) return <p className="muted page-loading">{t("common.loading")}</p>;
  const state = channelState(channel);
  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    try {
      await action();
    } catch (failure) {
      setActionError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page" data-testid="channel-page">
      <PageHeader title={channel.name} subtitle={channel.kind === "whatsapp_cloud" ? t("ws.channels.cloud") : t("ws.channels.sandbox")}>
        <Pill tone={state.tone} testId="channel-state">
          {t(state.key)}
        </Pill>
        <Link to="/channels">← {t("nav.channels")}</Link>
      </PageHeader>
      <ErrorNote error={actionError} />
      {notice && (
        <p className="notice" data-testid="channel-notice">
          {notice}
        </p>
      )}
      {channel.paused && (
        <div className="banner danger card" role="alert" data-testid="paused-banner">
          <div>
            <strong>{t("ws.channel.pausedTitle")}</strong>
            <PauseReason reason={channel.pause_reason} />
            <p className="small">{t("ws.channel.pausedHelp")}</p>
          </div>
          <button
            type="button"
            className="primary"
            disabled={busy}
            data-testid="resume-channel"
            onClick={() =>
              act(async () => {
                const result = await ws.resumeChannel(channel.id);
                setData(result.channel);
                setNotice(t("ws.channel.resumed", { n: result.requeued }));
              })
            }
          >
            {t("ws.channel.resume")}
          </button>
        </div>
      )}
      <div className="card-grid">
        {channel.kind === "whatsapp_cloud" && (
          <section className="card" data-testid="channel-connection">
            <h2>{t("ws.channel.connection")}</h2>
            <dl className="facts">
              <dt>{t("ws.channels.number")}</dt>
              <dd>{channel.display_phone_number || "—"}</dd>
              <dt>{t("ws.check.verifiedName")}</dt>
              <dd>{channel.verified_name || "—"}</dd>
              <dt>{t("ws.connect.phoneNumberId")}</dt>
              <dd>
                <code>{channel.phone_number_id}</code>
              </dd>
              <dt>{t("ws.connect.wabaId")}</dt>
              <dd>
                <code>{channel.waba_id}</code>
              </dd>
              <dt>{t("ws.connect.token")}</dt>
              <dd>
                <code>{channel.access_token_masked || "—"}</code>
              </dd>
              <dt>{t("ws.channel.lastCheck")}</dt>
              <dd>
                {channel.checked_at ? formatDateTime(language, channel.checked_at) : t("ws.channel.neverChecked")}
                {channel.check_error && <div className="error-note small">{channel.check_error}</div>}
              </dd>
            </dl>
            <div className="actions">
              <button
                type="button"
                disabled={busy}
                data-testid="recheck-channel"
                onClick={() =>
                  act(async () => {
                    const result = await ws.checkChannel(channel.id);
                    setCheck(result);
                    setData(result.channel);
                  })
                }
              >
                {t("ws.connect.check")}
              </button>
            </div>
            {check && <CheckResult check={check} />}
          </section>
        )}
        {channel.kind === "whatsapp_cloud" && (
          <section className="card" data-testid="channel-quality">
            <h2>{t("ws.channel.quality")}</h2>
            <dl className="facts">
              <dt>{t("ws.check.quality")}</dt>
              <dd>
                <QualityPill rating={channel.quality_rating} />
              </dd>
              <dt>{t("ws.check.limit")}</dt>
              <dd data-testid="messaging-limit">{tierLabel(t, channel.messaging_limit_tier, language)}</dd>
              <dt>{t("ws.channel.throughput")}</dt>
              <dd>{t("ws.channel.perSecond", { n: channel.messages_per_second ?? 80 })}</dd>
            </dl>
            <p className="hint">{t("ws.channel.qualityHelp")}</p>
            {(["read_receipts", "typing_indicator"] as const).map((setting) => (
              <label className="checkbox" key={setting}>
                <input
                  type="checkbox"
                  data-testid={`channel-${setting}`}
                  checked={Boolean(channel[setting])}
                  onChange={async (event) => setData(await ws.channelUpdate(channel.id, { [setting]: event.target.checked }))}
                />{" "}
                {t(setting === "read_receipts" ? "ws.channel.readReceipts" : "ws.channel.typingIndicator")}
              </label>
            ))}
          </section>
        )}
        <section className="card" data-testid="channel-webhooks">
          <h2>{t("ws.channel.webhooks")}</h2>
          {channel.kind === "whatsapp_cloud" && (
            <>
              <CopyField label={t("ws.connect.callbackUrl")} value={channel.callback_url} testId="callback-url" />
              <p className="field">
                <span className="field-label">{t("ws.connect.verifyToken")}</span>{" "}
                <code data-testid="verify-token">{channel.verify_token_masked || "—"}</code>
              </p>
            </>
          )}
          {channel.webhooks.count > 0 ? (
            <p data-testid="webhook-arrivals">
              <Pill tone="ok">✓ {t("ws.channel.webhooksArrive")}</Pill>{" "}
              {t("ws.channel.webhookCount", { n: channel.webhooks.count, at: formatDateTime(language, channel.webhooks.last_received_at) })}
            </p>
          ) : (
            <p data-testid="webhook-arrivals">
              <Pill tone="warn">{t("ws.channel.noWebhooks")}</Pill> <span className="muted small">{t("ws.channel.noWebhooksHelp")}</span>
            </p>
          )}
          {channel.webhooks.last_error && <p className="error-note small">{channel.webhooks.last_error}</p>}
          {channel.webhooks.unknown_channel_at && channel.webhooks.count === 0 && (
            <p className="hint">{t("ws.channel.unknownChannel", { at: formatDateTime(language, channel.webhooks.unknown_channel_at) })}</p>
          )}
        </section>
        <section className="card" data-testid="channel-templates">
          <h2>{t("nav.templates")}</h2>
          <p>{t("ws.channel.templateCount", { n: channel.template_count })}</p>
          <div className="actions">
            {channel.kind === "whatsapp_cloud" && (
              <button
                type="button"
                disabled={busy}
                data-testid="channel-sync"
                onClick={() =>
                  act(async () => {
                    const counts = await ws.syncChannel(channel.id);
                    setNotice(t("ws.templates.synced", counts));
                    setData(await ws.channelHealth(channel.id));
                  })
                }
              >
                ⟳ {t("ws.templates.sync")}
              </button>
            )}
            <Link to="/templates">{t("ws.templates.open")} →</Link>
          </div>
        </section>
        {channel.alerts.length > 0 && (
          <section className="card">
            <h2>{t("ws.channel.alerts")}</h2>
            <ul className="plain-list">
              {channel.alerts.map((alert) => (
                <li key={alert.id}>
                  <span className="muted small">{formatDateTime(language, alert.created_at)}</span> {alert.message}
                </li>
              ))}
            </ul>
          </section>
        )}
        <Settings channel={channel} onSaved={setData} />
      </div>
    </div>
  );
}
