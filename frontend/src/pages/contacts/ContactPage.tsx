// One contact: attributes and tags (editable), consent per category with its history (when, how,
// from which message or import), opt-out by hand, conversations, messages with statuses, and runs.
import { useEffect, useState } from "react";
import { ws, type ConsentEntry, type ContactDetail, type RunSummary } from "../../api/workspace";
import { formatDateTime, useT, type MessageKey } from "../../i18n";
import { Link } from "../../router";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, can, errorText, useLoad } from "../ui";
import { consentTone } from "./ContactsPage";

const CATEGORIES = ["marketing", "utility", "authentication"];
const STATUS_TONE: Record<string, "ok" | "bad" | "warn" | "neutral" | "info"> = {
  read: "ok",
  delivered: "ok",
  sent: "info",
  preparing: "warn",
  queued: "warn",
  sending: "warn",
  failed: "bad",
  received: "neutral",
};

/** How a consent change happened, in words: the server keeps a short machine-like source. */
export function sourceLabel(t: (key: MessageKey, params?: Record<string, string | number>) => string, entry: ConsentEntry): string {
  const source = entry.source;
  if (entry.import) return t("ws.source.import", { id: entry.import.id });
  if (source.startsWith("by hand")) return t("ws.source.byHand");
  if (source.startsWith("keyword ")) return t("ws.source.keyword", { word: source.slice(8) });
  if (source.startsWith("button ")) return t("ws.source.button", { id: source.slice(7) });
  if (source.startsWith("error 131050")) return t("ws.source.metaStop");
  return source;
}

function noteLabel(t: (key: MessageKey, params?: Record<string, string | number>) => string, note: string): string {
  const line = /^line (\d+)$/.exec(note);
  return line ? t("ws.source.line", { n: line[1] }) : `“${note}”`;
}

function Details({ contact, editable, onSaved }: { contact: ContactDetail; editable: boolean; onSaved: (next: ContactDetail) => void }) {
  const { t } = useT();
  const [name, setName] = useState(contact.name);
  const [rows, setRows] = useState(() => Object.entries(contact.attributes).map(([key, value]) => ({ key, value: String(value ?? "") })));
  const [tags, setTags] = useState(contact.tags);
  const [newTag, setNewTag] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const save = async () => {
    setError(null);
    try {
      const attributes = Object.fromEntries(rows.filter((row) => row.key.trim()).map((row) => [row.key.trim(), row.value]));
      onSaved(await ws.updateContact(contact.id, { name, attributes, tags }));
      setSaved(true);
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <section className="card" data-testid="contact-details">
      <h2>{t("ws.contact.details")}</h2>
      <label className="field">
        <span>{t("ws.name")}</span>
        <input value={name} disabled={!editable} onChange={(event) => setName(event.target.value)} data-testid="contact-name" />
      </label>
      <span className="field-label">{t("ws.contact.attributes")}</span>
      <table className="kv">
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td>
                <input value={row.key} disabled={!editable} aria-label={t("ws.contact.attributeName")} onChange={(event) => setRows(rows.map((r, i) => (i === index ? { ...r, key: event.target.value } : r)))} />
              </td>
              <td>
                <input value={row.value} disabled={!editable} aria-label={t("ws.contact.attributeValue")} onChange={(event) => setRows(rows.map((r, i) => (i === index ? { ...r, value: event.target.value } : r)))} />
              </td>
              <td>
                {editable && (
                  <button type="button" className="icon-button" aria-label={t("common.remove")} onClick={() => setRows(rows.filter((_, i) => i !== index))}>
                    ×
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editable && (
        <button type="button" className="link" onClick={() => setRows([...rows, { key: "", value: "" }])} data-testid="add-attribute">
          + {t("ws.contact.addAttribute")}
        </button>
      )}
      <span className="field-label">{t("ws.contacts.tags")}</span>
      <div className="tag-editor">
        {tags.map((tag) => (
          <span className="tag" key={tag}>
            {tag}
            {editable && (
              <button type="button" className="icon-button" aria-label={`${t("common.remove")} ${tag}`} onClick={() => setTags(tags.filter((item) => item !== tag))}>
                ×
              </button>
            )}
          </span>
        ))}
        {editable && (
          <input
            value={newTag}
            placeholder={t("ws.contact.addTag")}
            onChange={(event) => setNewTag(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && newTag.trim()) {
                event.preventDefault();
                setTags([...new Set([...tags, newTag.trim()])]);
                setNewTag("");
              }
            }}
            data-testid="contact-new-tag"
          />
        )}
      </div>
      <ErrorNote error={error} />
      {editable && (
        <div className="actions">
          <button type="button" className="primary" onClick={save} data-testid="contact-save">
            {t("ws.save")}
          </button>
          {saved && <span className="muted">✓ {t("ws.saved")}</span>}
        </div>
      )}
    </section>
  );
}

function Consent({ contact, editable, onSaved }: { contact: ContactDetail; editable: boolean; onSaved: (next: ContactDetail) => void }) {
  const { t, language } = useT();
  const [asking, setAsking] = useState(false);
  // Pre-select what the customer still receives: opting out again changes nothing.
  const [chosen, setChosen] = useState<string[]>(() => CATEGORIES.filter((category) => contact.consent[category]?.state !== "opted_out"));
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <section className="card wide" data-testid="contact-consent">
      <h2>{t("ws.contact.consent")}</h2>
      <div className="consent-states">
        {CATEGORIES.map((category) => {
          const state = contact.consent[category]?.state ?? "unknown";
          return (
            <div key={category} className="consent-state" data-testid={`consent-${category}`}>
              <span className="field-label">{t(`ws.consentCategory.${category}` as MessageKey)}</span>
              <Pill tone={consentTone(state)}>{t(`ws.consent.${state}` as MessageKey)}</Pill>
            </div>
          );
        })}
        {editable && !asking && (
          <button
            type="button"
            onClick={() => {
              setChosen(CATEGORIES.filter((category) => contact.consent[category]?.state !== "opted_out"));
              setAsking(true);
            }}
            disabled={CATEGORIES.every((category) => contact.consent[category]?.state === "opted_out")}
            data-testid="opt-out"
          >
            {t("ws.contact.optOut")}
          </button>
        )}
      </div>
      {asking && (
        <form
          className="inline-panel"
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              onSaved(await ws.optOut(contact.id, chosen, note));
              setAsking(false);
              setNote("");
            } catch (failure) {
              setError(errorText(failure));
            }
          }}
        >
          <p className="small">{t("ws.contact.optOutHelp")}</p>
          <div className="choices">
            {CATEGORIES.map((category) => (
              <label key={category} className="choice">
                <input type="checkbox" checked={chosen.includes(category)} onChange={() => setChosen(chosen.includes(category) ? chosen.filter((c) => c !== category) : [...chosen, category])} />{" "}
                {t(`ws.consentCategory.${category}` as MessageKey)}
              </label>
            ))}
          </div>
          <input placeholder={t("ws.contact.optOutNote")} value={note} onChange={(event) => setNote(event.target.value)} data-testid="opt-out-note" />
          <ErrorNote error={error} />
          <div className="actions">
            <button type="submit" className="primary danger" disabled={chosen.length === 0} data-testid="opt-out-confirm">
              {t("ws.contact.optOutConfirm")}
            </button>
            <button type="button" onClick={() => setAsking(false)}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      )}
      <h3>{t("ws.contact.history")}</h3>
      {contact.consent_history.length === 0 ? (
        <p className="muted small">{t("ws.contact.noHistory")}</p>
      ) : (
        <table className="data-table compact" data-testid="consent-history">
          <thead>
            <tr>
              <th>{t("ws.when")}</th>
              <th>{t("ws.contacts.category")}</th>
              <th>{t("ws.state")}</th>
              <th>{t("ws.contact.how")}</th>
              <th>{t("ws.contact.from")}</th>
            </tr>
          </thead>
          <tbody>
            {contact.consent_history.map((entry) => (
              <tr key={entry.id} data-testid="consent-entry">
                <td>{formatDateTime(language, entry.at)}</td>
                <td>{t(`ws.consentCategory.${entry.category}` as MessageKey)}</td>
                <td>
                  <Pill tone={consentTone(entry.state)}>{t(`ws.consent.${entry.state}` as MessageKey)}</Pill>
                </td>
                <td>
                  {sourceLabel(t, entry)}
                  {entry.note && <div className="muted small">{noteLabel(t, entry.note)}</div>}
                </td>
                <td className="small">
                  {entry.message && (
                    <span>
                      {t("ws.contact.fromMessage")}: “{entry.message.text}”
                    </span>
                  )}
                  {entry.import && <span>{entry.import.filename}</span>}
                  {!entry.message && !entry.import && entry.actor && (
                    <span>
                      {t("ws.contact.byPerson")}: {entry.actor}
                    </span>
                  )}
                  {!entry.message && !entry.import && !entry.actor && "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function ContactPage({ user, params }: PageProps) {
  const { t, tOptional, language } = useT();
  const id = Number(params.id);
  const { data: contact, error, setData } = useLoad(() => ws.contact(id), [id]);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  useEffect(() => {
    if (!contact) return;
    ws.contactRuns(contact.phone).then(setRuns, () => setRuns([]));
  }, [contact?.phone]); // eslint-disable-line react-hooks/exhaustive-deps

  if (error) return <div className="page"><ErrorNote error={error} /></div>;
  if (!contact) return <p className="muted page-loading">{t("common.loading")}</p>;
  const editable = can(user.roles, "editor");
  return (
    <div className="page" data-testid="contact-page">
      <PageHeader title={contact.name || contact.phone} subtitle={`${contact.phone}${contact.channel_name ? ` · ${contact.channel_name}` : ""}`}>
        {contact.in_service_window ? <Pill tone="ok">{t("ws.contact.inWindow")}</Pill> : <Pill>{t("ws.contact.outWindow")}</Pill>}
        <Link to="/contacts">← {t("nav.contacts")}</Link>
      </PageHeader>
      <div className="card-grid">
        <Details key={contact.updated_at} contact={contact} editable={editable} onSaved={setData} />
        <section className="card" data-testid="contact-conversations">
          <h2>{t("ws.contact.conversations")}</h2>
          {contact.conversations.length === 0 ? (
            <p className="muted small">{t("ws.contact.noConversations")}</p>
          ) : (
            <ul className="plain-list">
              {contact.conversations.map((conversation) => (
                <li key={conversation.id}>
                  <strong>#{conversation.id}</strong> <Pill>{tOptional(`ws.conversation.${conversation.state}`) ?? conversation.state}</Pill>{" "}
                  <span className="muted small">
                    {formatDateTime(language, conversation.opened_at)} · {t("ws.contact.messageCount", { n: conversation.messages })}
                    {conversation.team ? ` · ${conversation.team}` : ""}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <h3>{t("nav.runs")}</h3>
          {runs === null ? (
            <p className="muted small">{t("common.loading")}</p>
          ) : runs.length === 0 ? (
            <p className="muted small">{t("ws.contact.noRuns")}</p>
          ) : (
            <ul className="plain-list" data-testid="contact-runs">
              {runs.slice(0, 20).map((run) => (
                <li key={run.id}>
                  <Link to={`/runs/${run.id}`}>{run.flow.name}</Link> <Pill>{tOptional(`runStatus.${run.status}`) ?? run.status}</Pill>{" "}
                  <span className="muted small">{formatDateTime(language, run.started_at)}</span>
                  {run.end_reason && <div className="muted small">{run.end_reason}</div>}
                </li>
              ))}
            </ul>
          )}
        </section>
        <Consent contact={contact} editable={editable} onSaved={setData} />
        <section className="card wide" data-testid="contact-messages">
          <h2>{t("ws.contact.messages")}</h2>
          {contact.messages.length === 0 ? (
            <p className="muted small">{t("ws.contact.noMessages")}</p>
          ) : (
            <ul className="message-log">
              {contact.messages.map((message) => (
                <li key={message.id} className={`message ${message.direction}`}>
                  <span className="muted small">{formatDateTime(language, message.at)}</span>
                  <span className="message-text">
                    {message.template && <code>{message.template}</code>} {message.text || `[${message.kind}]`}
                  </span>
                  <Pill tone={STATUS_TONE[message.status] ?? "neutral"}>{tOptional(`msgStatus.${message.status}`) ?? message.status}</Pill>
                  {message.error && <span className="error-note small">{message.error}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
