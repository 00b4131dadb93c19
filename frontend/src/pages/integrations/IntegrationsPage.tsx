// Integrations (admins): API keys of outside systems, outbound webhooks, and the vault's
// credentials. A key or a signing secret is shown once, when created; credentials never come back.
import { Fragment, useState } from "react";
import { ws, type ApiCall, type ApiIntegration, type Credential, type WebhookSubscription } from "../../api/workspace";
import { formatDateTime, useT, type MessageKey } from "../../i18n";
import { setQuery, useLocation } from "../../router";
import type { PageProps } from "../../routes";
import { CopyButton, ErrorNote, PageHeader, Pill, errorText, useLoad } from "../ui";

const TABS = ["keys", "webhooks", "credentials"] as const;
type Tab = (typeof TABS)[number];

function SecretOnce({ label, value, testId }: { label: string; value: string; testId: string }) {
  const { t } = useT();
  return (
    <div className="secret-once" role="status">
      <strong>{label}</strong>
      <div className="copy-row">
        <code data-testid={testId}>{value}</code>
        <CopyButton text={value} testId={`${testId}-copy`} />
      </div>
      <p className="small">{t("ws.secret.once")}</p>
    </div>
  );
}

function Calls({ integration }: { integration: ApiIntegration }) {
  const { t, tOptional, language } = useT();
  const { data, error } = useLoad(() => ws.calls(integration.id), [integration.id]);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <p className="muted">{t("common.loading")}</p>;
  if (data.calls.length === 0) return <p className="muted small">{t("ws.keys.noCalls")}</p>;
  return (
    <table className="data-table compact" data-testid="key-calls">
      <thead>
        <tr>
          <th>{t("ws.when")}</th>
          <th>{t("ws.keys.event")}</th>
          <th>{t("nav.contacts")}</th>
          <th>{t("ws.state")}</th>
          <th>{t("nav.runs")}</th>
        </tr>
      </thead>
      <tbody>
        {data.calls.map((call: ApiCall) => (
          <tr key={call.id}>
            <td>{formatDateTime(language, call.received_at)}</td>
            <td>
              <code>{call.event}</code>
            </td>
            <td>{call.contact}</td>
            <td>
              <Pill tone={call.state === "done" ? "ok" : call.state === "failed" ? "bad" : "neutral"}>{tOptional(`ws.eventState.${call.state}`) ?? call.state}</Pill>
              {call.error && <div className="error-note small">{call.error}</div>}
            </td>
            <td>{call.runs.map((run) => `${run.flow} #${run.id} (${tOptional(`runStatus.${run.status}`) ?? run.status})`).join(", ") || "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function KeysTab() {
  const { t, language } = useT();
  const { data: keys, error, reload } = useLoad(() => ws.integrations());
  const [name, setName] = useState("");
  const [shown, setShown] = useState<ApiIntegration | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const act = async (action: () => Promise<void>) => {
    setActionError(null);
    try {
      await action();
      await reload();
    } catch (failure) {
      setActionError(errorText(failure));
    }
  };
  return (
    <section data-testid="keys-tab">
      <p className="muted">{t("ws.keys.help")}</p>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void act(async () => {
            setShown(await ws.createIntegration(name.trim()));
            setName("");
          });
        }}
      >
        <input required placeholder={t("ws.keys.namePlaceholder")} value={name} onChange={(event) => setName(event.target.value)} data-testid="key-name" />
        <button type="submit" className="primary" data-testid="create-key">
          + {t("ws.keys.create")}
        </button>
      </form>
      {shown?.api_key && <SecretOnce label={t("ws.keys.created", { name: shown.name })} value={shown.api_key} testId="new-api-key" />}
      <ErrorNote error={actionError ?? error} />
      {keys && keys.length === 0 && <div className="empty-state">{t("ws.keys.empty")}</div>}
      {keys && keys.length > 0 && (
        <table className="data-table" data-testid="key-table">
          <thead>
            <tr>
              <th>{t("ws.name")}</th>
              <th>{t("ws.keys.key")}</th>
              <th>{t("ws.state")}</th>
              <th>{t("ws.keys.lastUsed")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <Fragment key={key.id}>
                <tr data-testid="key-row">
                  <td>{key.name}</td>
                  <td>
                    <code>flx_{key.key_prefix}_…</code>
                  </td>
                  <td>
                    <Pill tone={key.is_active ? "ok" : "bad"}>{t(key.is_active ? "ws.keys.active" : "ws.keys.revoked")}</Pill>
                  </td>
                  <td>{key.last_used_at ? formatDateTime(language, key.last_used_at) : t("ws.never")}</td>
                  <td className="row-actions">
                    <button type="button" className="link" onClick={() => setOpen(open === key.id ? null : key.id)} data-testid="key-calls-toggle">
                      {t("ws.keys.calls")}
                    </button>
                    <button
                      type="button"
                      className="link"
                      onClick={() => window.confirm(t("ws.keys.rotateConfirm")) && void act(async () => setShown(await ws.rotateKey(key.id)))}
                    >
                      {t("ws.keys.rotate")}
                    </button>
                    {key.is_active && (
                      <button
                        type="button"
                        className="link danger"
                        onClick={() => window.confirm(t("ws.keys.revokeConfirm")) && void act(async () => void (await ws.revokeKey(key.id)))}
                      >
                        {t("ws.keys.revoke")}
                      </button>
                    )}
                  </td>
                </tr>
                {open === key.id && (
                  <tr>
                    <td colSpan={5}>
                      <Calls integration={key} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const EVENT_TYPES = [
  "conversation.opened", "conversation.assigned", "conversation.closed", "message.received", "message.sent", "message.delivered",
  "message.read", "message.failed", "run.completed", "run.failed", "contact.opted_in", "contact.opted_out", "team.notified", "channel.paused",
];

function Deliveries({ subscription }: { subscription: WebhookSubscription }) {
  const { t, language } = useT();
  const { data, error, reload } = useLoad(() => ws.deliveries(subscription.id), [subscription.id]);
  const [actionError, setActionError] = useState<string | null>(null);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <p className="muted">{t("common.loading")}</p>;
  if (data.length === 0) return <p className="muted small">{t("ws.webhooks.noDeliveries")}</p>;
  return (
    <>
      <ErrorNote error={actionError} />
      <table className="data-table compact" data-testid="deliveries">
        <thead>
          <tr>
            <th>{t("ws.when")}</th>
            <th>{t("ws.keys.event")}</th>
            <th>{t("ws.state")}</th>
            <th>{t("ws.webhooks.attempts")}</th>
            <th>HTTP</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data.slice(0, 50).map((delivery) => (
            <tr key={delivery.id}>
              <td>{formatDateTime(language, delivery.created_at)}</td>
              <td>
                <code>{delivery.event_type}</code>
              </td>
              <td>
                <Pill tone={delivery.status === "succeeded" ? "ok" : delivery.status === "failed" ? "bad" : "warn"}>
                  {t(`ws.delivery.${delivery.status}` as MessageKey)}
                </Pill>
                {delivery.last_error && <div className="error-note small">{delivery.last_error}</div>}
              </td>
              <td>{delivery.attempts}</td>
              <td>{delivery.last_status_code ?? "—"}</td>
              <td>
                <button
                  type="button"
                  className="link"
                  onClick={async () => {
                    try {
                      await ws.redeliver(delivery.id);
                      await reload();
                    } catch (failure) {
                      setActionError(errorText(failure));
                    }
                  }}
                >
                  {t("ws.webhooks.redeliver")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function WebhooksTab() {
  const { t } = useT();
  const { data: subscriptions, error, reload } = useLoad(() => ws.subscriptions());
  const [form, setForm] = useState({ name: "", url: "", event_types: ["run.completed"] as string[] });
  const [secret, setSecret] = useState<WebhookSubscription | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const act = async (action: () => Promise<void>) => {
    setActionError(null);
    try {
      await action();
      await reload();
    } catch (failure) {
      setActionError(errorText(failure));
    }
  };
  const toggle = (type: string) =>
    setForm({ ...form, event_types: form.event_types.includes(type) ? form.event_types.filter((item) => item !== type) : [...form.event_types, type] });
  return (
    <section data-testid="webhooks-tab">
      <p className="muted">{t("ws.webhooks.help")}</p>
      <form
        className="card"
        onSubmit={(event) => {
          event.preventDefault();
          void act(async () => {
            setSecret(await ws.createSubscription(form));
            setForm({ name: "", url: "", event_types: ["run.completed"] });
          });
        }}
      >
        <div className="field-grid">
          <label className="field">
            <span>{t("ws.name")}</span>
            <input required value={form.name} onChange={(event) => setForm({ ...form, name: event.target.value })} data-testid="webhook-name" />
          </label>
          <label className="field">
            <span>URL</span>
            <input required type="url" placeholder="https://crm.example.com/fluxo" value={form.url} onChange={(event) => setForm({ ...form, url: event.target.value })} data-testid="webhook-url" />
          </label>
        </div>
        <fieldset>
          <legend>{t("ws.webhooks.events")}</legend>
          <div className="choices">
            {EVENT_TYPES.map((type) => (
              <label key={type} className="choice">
                <input type="checkbox" checked={form.event_types.includes(type)} onChange={() => toggle(type)} /> <code>{type}</code>
              </label>
            ))}
          </div>
        </fieldset>
        <div className="actions">
          <button type="submit" className="primary" disabled={form.event_types.length === 0} data-testid="create-webhook">
            + {t("ws.webhooks.create")}
          </button>
        </div>
      </form>
      {secret?.secret && <SecretOnce label={t("ws.webhooks.secret", { name: secret.name })} value={secret.secret} testId="webhook-secret" />}
      <ErrorNote error={actionError ?? error} />
      {subscriptions && subscriptions.length === 0 && <div className="empty-state">{t("ws.webhooks.empty")}</div>}
      {subscriptions?.map((subscription) => (
        <article className="card" key={subscription.id} data-testid="webhook-row">
          <header className="card-head">
            <strong>{subscription.name}</strong>
            <code className="small">{subscription.url}</code>
            <span className="spacer" />
            <Pill tone={subscription.is_active ? "ok" : "bad"}>{t(subscription.is_active ? "ws.keys.active" : "ws.webhooks.disabled")}</Pill>
          </header>
          {!subscription.is_active && subscription.disabled_reason && <p className="error-note small">{subscription.disabled_reason}</p>}
          <p className="small muted">{subscription.event_types.join(", ")}</p>
          <div className="actions">
            <button type="button" className="link" onClick={() => setOpen(open === subscription.id ? null : subscription.id)}>
              {t("ws.webhooks.deliveries")}
            </button>
            {!subscription.is_active && (
              <button type="button" className="link" onClick={() => void act(async () => void (await ws.enableSubscription(subscription.id)))}>
                {t("ws.webhooks.enable")}
              </button>
            )}
            <button
              type="button"
              className="link danger"
              onClick={() => window.confirm(t("ws.confirmDelete")) && void act(async () => void (await ws.deleteSubscription(subscription.id)))}
            >
              {t("common.remove")}
            </button>
          </div>
          {open === subscription.id && <Deliveries subscription={subscription} />}
        </article>
      ))}
    </section>
  );
}

const KINDS = ["bearer", "basic", "header", "query", "url"] as const;

function CredentialForm({ existing, onDone }: { existing?: Credential; onDone: () => void }) {
  const { t } = useT();
  const [form, setForm] = useState({
    name: existing?.name ?? "",
    kind: existing?.kind ?? "bearer",
    secret: "",
    username: existing?.username ?? "",
    header_name: existing?.header_name ?? "",
    query_param: existing?.query_param ?? "",
    base_url: existing?.base_url ?? "",
    description: existing?.description ?? "",
  });
  const [error, setError] = useState<string | null>(null);
  const set = (name: keyof typeof form) => (event: { target: { value: string } }) => setForm({ ...form, [name]: event.target.value });
  return (
    <form
      className="card"
      data-testid="credential-form"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        try {
          const body: Record<string, unknown> = { ...form };
          if (existing && !form.secret) delete body.secret;
          if (existing) await ws.updateCredential(existing.id, body);
          else await ws.createCredential(body);
          onDone();
        } catch (failure) {
          setError(errorText(failure));
        }
      }}
    >
      <div className="field-grid">
        <label className="field">
          <span>{t("ws.credentials.name")}</span>
          <input required pattern="[-a-zA-Z0-9_]+" value={form.name} onChange={set("name")} placeholder="erp-api" data-testid="credential-name" />
        </label>
        <label className="field">
          <span>{t("ws.credentials.kind")}</span>
          <select value={form.kind} onChange={set("kind")}>
            {KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {t(`ws.credentialKind.${kind}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label className="field">
        <span>{t(existing ? "ws.credentials.replaceSecret" : "ws.credentials.secret")}</span>
        <input
          type="password"
          autoComplete="off"
          required={!existing}
          value={form.secret}
          onChange={set("secret")}
          placeholder={existing ? `${existing.secret_masked} — ${t("ws.secret.keep")}` : ""}
          data-testid="credential-secret"
        />
      </label>
      {form.kind === "basic" && (
        <label className="field">
          <span>{t("ws.credentials.username")}</span>
          <input value={form.username} onChange={set("username")} />
        </label>
      )}
      {form.kind === "header" && (
        <label className="field">
          <span>{t("ws.credentials.header")}</span>
          <input value={form.header_name} onChange={set("header_name")} placeholder="X-API-Key" />
        </label>
      )}
      {form.kind === "query" && (
        <label className="field">
          <span>{t("ws.credentials.query")}</span>
          <input value={form.query_param} onChange={set("query_param")} placeholder="api_key" />
        </label>
      )}
      <label className="field">
        <span>{t("ws.credentials.baseUrl")}</span>
        <input type="url" value={form.base_url} onChange={set("base_url")} placeholder="https://erp.example.com/api" />
      </label>
      <label className="field">
        <span>{t("ws.description")}</span>
        <input value={form.description} onChange={set("description")} />
      </label>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary" data-testid="credential-save">
          {t("ws.save")}
        </button>
        <button type="button" onClick={onDone}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

function CredentialsTab() {
  const { t, language } = useT();
  const { data: credentials, error, reload } = useLoad(() => ws.credentials());
  const [editing, setEditing] = useState<Credential | "new" | null>(null);
  const done = () => {
    setEditing(null);
    void reload();
  };
  return (
    <section data-testid="credentials-tab">
      <p className="muted">{t("ws.credentials.help")}</p>
      {editing === null && (
        <button type="button" className="primary" onClick={() => setEditing("new")} data-testid="new-credential">
          + {t("ws.credentials.create")}
        </button>
      )}
      {editing !== null && <CredentialForm existing={editing === "new" ? undefined : editing} onDone={done} />}
      <ErrorNote error={error} />
      {credentials && credentials.length > 0 && (
        <table className="data-table" data-testid="credential-table">
          <thead>
            <tr>
              <th>{t("ws.credentials.name")}</th>
              <th>{t("ws.credentials.kind")}</th>
              <th>{t("ws.credentials.secret")}</th>
              <th>{t("ws.keys.lastUsed")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {credentials.map((credential) => (
              <tr key={credential.id} data-testid="credential-row">
                <td>
                  <code>{credential.name}</code>
                  {credential.description && <div className="muted small">{credential.description}</div>}
                </td>
                <td>{t(`ws.credentialKind.${credential.kind}` as MessageKey)}</td>
                <td>
                  <code>{credential.secret_masked}</code>
                </td>
                <td>{credential.last_used_at ? formatDateTime(language, credential.last_used_at) : t("ws.never")}</td>
                <td className="row-actions">
                  <button type="button" className="link" onClick={() => setEditing(credential)}>
                    {t("ws.credentials.replace")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {credentials && credentials.length === 0 && editing === null && <div className="empty-state">{t("ws.credentials.empty")}</div>}
    </section>
  );
}

export function IntegrationsPage(_props: PageProps) {
  const { t } = useT();
  const search = useLocation((state) => state.search);
  const tab = (new URLSearchParams(search).get("tab") as Tab) || "keys";
  return (
    <div className="page" data-testid="integrations-page">
      <PageHeader title={t("nav.integrations")} subtitle={t("ws.integrations.subtitle")} />
      <div className="tabs" role="tablist">
        {TABS.map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={tab === name ? "active" : ""} onClick={() => setQuery({ tab: name })} data-testid={`tab-${name}`}>
            {t(`ws.integrations.${name}` as MessageKey)}
          </button>
        ))}
      </div>
      {tab === "keys" && <KeysTab />}
      {tab === "webhooks" && <WebhooksTab />}
      {tab === "credentials" && <CredentialsTab />}
    </div>
  );
}
