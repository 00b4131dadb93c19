// AI assistants: the list, and one assistant's instructions, provider, knowledge entries (add,
// edit, import from CSV) and a "try it" box that shows the answer and its confidence.
import { useState } from "react";
import { ws, type AskResult, type Assistant, type KnowledgeEntry } from "../../api/workspace";
import { useT, type MessageKey } from "../../i18n";
import { Link, navigate } from "../../router";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, can, errorText, readFile, useLoad } from "../ui";

export function AssistantsPage({ user }: PageProps) {
  const { t } = useT();
  const { data: assistants, error } = useLoad(() => ws.assistants());
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<string | null>(null);
  return (
    <div className="page" data-testid="assistants-page">
      <PageHeader title={t("nav.assistants")} subtitle={t("ws.assistants.subtitle")} />
      {can(user.roles, "editor") && (
        <form
          className="inline-form"
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              const created = await ws.saveAssistant({ name: name.trim(), provider: "builtin" });
              navigate(`/assistants/${created.id}`);
            } catch (failure) {
              setCreateError(errorText(failure));
            }
          }}
        >
          <input required placeholder={t("ws.assistants.namePlaceholder")} value={name} onChange={(event) => setName(event.target.value)} data-testid="assistant-name" />
          <button type="submit" className="primary" data-testid="create-assistant">
            + {t("ws.assistants.create")}
          </button>
        </form>
      )}
      <ErrorNote error={createError ?? error} />
      {assistants && assistants.length === 0 && <div className="empty-state">{t("ws.assistants.empty")}</div>}
      <div className="card-grid">
        {(assistants ?? []).map((assistant) => (
          <article className="card" key={assistant.id} data-testid="assistant-card">
            <header className="card-head">
              <Link to={`/assistants/${assistant.id}`}>
                <strong>{assistant.name}</strong>
              </Link>
              <Pill>{t(`ws.provider.${assistant.provider}` as MessageKey)}</Pill>
            </header>
            <p className="small muted">{t("ws.assistants.entries", { n: assistant.knowledge.length })}</p>
            {assistant.instructions && <p className="small clamp">{assistant.instructions}</p>}
          </article>
        ))}
      </div>
    </div>
  );
}

function EntryRow({ entry, editable, onChanged }: { entry: KnowledgeEntry; editable: boolean; onChanged: () => void }) {
  const { t } = useT();
  const [form, setForm] = useState(entry);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!editing) {
    return (
      <tr data-testid="knowledge-row">
        <td>{entry.question}</td>
        <td className="small">{entry.answer}</td>
        <td className="small muted">{entry.keywords}</td>
        <td className="row-actions">
          {!entry.is_active && <Pill>{t("ws.assistants.inactive")}</Pill>}
          {editable && (
            <>
              <button type="button" className="link" onClick={() => setEditing(true)}>
                {t("ws.edit")}
              </button>
              <button
                type="button"
                className="link danger"
                onClick={async () => {
                  if (!window.confirm(t("ws.confirmDelete"))) return;
                  await ws.deleteKnowledge(entry.id);
                  onChanged();
                }}
              >
                {t("common.remove")}
              </button>
            </>
          )}
        </td>
      </tr>
    );
  }
  return (
    <tr>
      <td>
        <input value={form.question} onChange={(event) => setForm({ ...form, question: event.target.value })} aria-label={t("ws.assistants.question")} />
      </td>
      <td>
        <textarea value={form.answer} onChange={(event) => setForm({ ...form, answer: event.target.value })} aria-label={t("ws.assistants.answer")} />
      </td>
      <td>
        <input value={form.keywords} onChange={(event) => setForm({ ...form, keywords: event.target.value })} aria-label={t("ws.assistants.keywords")} />
        <label className="choice small">
          <input type="checkbox" checked={form.is_active} onChange={(event) => setForm({ ...form, is_active: event.target.checked })} /> {t("ws.assistants.active")}
        </label>
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="primary"
          onClick={async () => {
            try {
              await ws.updateKnowledge(entry.id, form);
              setEditing(false);
              onChanged();
            } catch (failure) {
              setError(errorText(failure));
            }
          }}
        >
          {t("ws.save")}
        </button>
        <button type="button" onClick={() => setEditing(false)}>
          {t("common.cancel")}
        </button>
        <ErrorNote error={error} />
      </td>
    </tr>
  );
}

function TryIt({ assistant }: { assistant: Assistant }) {
  const { t } = useT();
  const [text, setText] = useState("");
  const [answer, setAnswer] = useState<AskResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section className="card" data-testid="try-it">
      <h2>{t("ws.assistants.tryIt")}</h2>
      <form
        className="inline-form"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          setAnswer(null);
          try {
            setAnswer(await ws.ask(assistant.id, text));
          } catch (failure) {
            setError(errorText(failure));
          } finally {
            setBusy(false);
          }
        }}
      >
        <input required placeholder={t("ws.assistants.askPlaceholder")} value={text} onChange={(event) => setText(event.target.value)} data-testid="try-question" />
        <button type="submit" disabled={busy} data-testid="try-ask">
          {busy ? t("common.working") : t("ws.assistants.ask")}
        </button>
      </form>
      {answer && (
        <div className="answer" data-testid="try-answer">
          <p>{answer.text}</p>
          <p className="small muted">
            {t("ws.assistants.confidence")}:{" "}
            <strong data-testid="try-confidence">{answer.confidence === null || answer.confidence === undefined ? "—" : `${Math.round(answer.confidence * 100)}%`}</strong>
            {answer.source ? ` · ${answer.source}` : ""}
          </p>
        </div>
      )}
      <ErrorNote error={error} />
      <p className="hint">{t("ws.assistants.threshold", { n: Math.round(assistant.confidence_threshold * 100) })}</p>
    </section>
  );
}

export function AssistantPage({ user, params }: PageProps) {
  const { t } = useT();
  const id = Number(params.id);
  const { data: assistant, error, reload } = useLoad(() => ws.assistant(id), [id]);
  const { data: credentials } = useLoad(() => ws.credentials());
  const [form, setForm] = useState<Partial<Assistant> | null>(null);
  const [entry, setEntry] = useState({ question: "", answer: "", keywords: "" });
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const editable = can(user.roles, "editor");
  if (error) return <div className="page"><ErrorNote error={error} /></div>;
  if (!assistant) return <p className="muted page-loading">{t("common.loading")}</p>;
  const current = form ?? assistant;
  const set = (name: keyof Assistant) => (event: { target: { value: string } }) => setForm({ ...current, [name]: event.target.value });
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
    <div className="page" data-testid="assistant-page">
      <PageHeader title={assistant.name} subtitle={t(`ws.provider.${assistant.provider}` as MessageKey)}>
        <Link to="/assistants">← {t("nav.assistants")}</Link>
      </PageHeader>
      <ErrorNote error={actionError} />
      {notice && <p className="notice">{notice}</p>}
      <div className="card-grid">
        <form
          className="card"
          onSubmit={(event) => {
            event.preventDefault();
            void act(async () => {
              const { knowledge: _knowledge, ...changes } = current as Assistant;
              await ws.saveAssistant({ ...changes, id: assistant.id });
              setForm(null);
              setNotice(t("ws.saved"));
            });
          }}
        >
          <h2>{t("ws.assistants.settings")}</h2>
          <label className="field">
            <span>{t("ws.assistants.instructions")}</span>
            <textarea rows={5} disabled={!editable} value={current.instructions ?? ""} onChange={set("instructions")} placeholder={t("ws.assistants.instructionsPlaceholder")} />
          </label>
          <div className="field-grid">
            <label className="field">
              <span>{t("ws.assistants.provider")}</span>
              <select disabled={!editable} value={current.provider} onChange={set("provider")}>
                <option value="builtin">{t("ws.provider.builtin")}</option>
                <option value="openai">{t("ws.provider.openai")}</option>
              </select>
            </label>
            <label className="field">
              <span>{t("ws.assistants.model")}</span>
              <input disabled={!editable || current.provider === "builtin"} value={current.model ?? ""} onChange={set("model")} placeholder="gpt-4o-mini" />
            </label>
            <label className="field">
              <span>{t("ws.assistants.credential")}</span>
              <select disabled={!editable || current.provider === "builtin"} value={current.credential ?? ""} onChange={(event) => setForm({ ...current, credential: event.target.value || null })}>
                <option value="">—</option>
                {(credentials ?? []).map((credential) => (
                  <option key={credential.id} value={credential.name}>
                    {credential.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>{t("ws.assistants.minConfidence")}</span>
              <input type="number" min={0} max={1} step={0.05} disabled={!editable} value={current.confidence_threshold ?? 0.5} onChange={(event) => setForm({ ...current, confidence_threshold: Number(event.target.value) })} />
            </label>
          </div>
          {editable && (
            <div className="actions">
              <button type="submit" className="primary" disabled={!form}>
                {t("ws.save")}
              </button>
            </div>
          )}
        </form>
        <TryIt assistant={assistant} />
        <section className="card wide" data-testid="knowledge">
          <h2>{t("ws.assistants.knowledge")}</h2>
          {editable && (
            <form
              className="knowledge-add"
              onSubmit={(event) => {
                event.preventDefault();
                void act(async () => {
                  await ws.addKnowledge(assistant.id, entry);
                  setEntry({ question: "", answer: "", keywords: "" });
                });
              }}
            >
              <input required placeholder={t("ws.assistants.question")} value={entry.question} onChange={(event) => setEntry({ ...entry, question: event.target.value })} data-testid="knowledge-question" />
              <input required placeholder={t("ws.assistants.answer")} value={entry.answer} onChange={(event) => setEntry({ ...entry, answer: event.target.value })} data-testid="knowledge-answer" />
              <input placeholder={t("ws.assistants.keywords")} value={entry.keywords} onChange={(event) => setEntry({ ...entry, keywords: event.target.value })} />
              <button type="submit" className="primary" data-testid="knowledge-add">
                + {t("common.add")}
              </button>
              <label className="button">
                ⇧ {t("ws.assistants.importCsv")}
                <input
                  type="file"
                  accept=".csv,text/csv"
                  hidden
                  data-testid="knowledge-import"
                  onChange={(event) => {
                    const file = event.target.files?.[0];
                    event.target.value = "";
                    if (file)
                      void act(async () => {
                        const result = await ws.importKnowledge(assistant.id, await readFile(file));
                        setNotice(t("ws.assistants.imported", { n: result.created }));
                      });
                  }}
                />
              </label>
            </form>
          )}
          <p className="hint">{t("ws.assistants.csvHelp")}</p>
          {assistant.knowledge.length === 0 ? (
            <p className="muted small">{t("ws.assistants.noEntries")}</p>
          ) : (
            <table className="data-table compact">
              <thead>
                <tr>
                  <th>{t("ws.assistants.question")}</th>
                  <th>{t("ws.assistants.answer")}</th>
                  <th>{t("ws.assistants.keywords")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {assistant.knowledge.map((item) => (
                  <EntryRow key={`${item.id}-${item.answer}-${item.is_active}`} entry={item} editable={editable} onChanged={() => void reload()} />
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </div>
  );
}
