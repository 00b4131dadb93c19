// Test run, beside the block settings (both usable at once): pick or create the test contact,
// fill the event's declared fields, then chat as the customer while the trace (block names,
// port labels) streams in; variables as a table, raw JSON behind a toggle; run again with the
// same data.
import { useEffect, useMemo, useRef, useState } from "react";
import { errorText } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { Config, TestContact, TestRun, TestRunEvent } from "../api/types";
import { formatDateTime, useT } from "../i18n";
import { Chat, type Reply } from "./Chat";
import { isStepNode } from "./graph";
import { blockName } from "./names";
import { portsFor } from "./ports";
import { useEditor } from "./store";
import { applyRunEvent, FINISHED_RUN_STATUSES, traceFromRun, triggerFieldsUsed } from "./trace";

const POLL_MS = 1500;

// The {{trigger.*}} names a graph reads, recomputed only when the nodes array changes.
const usedCache = new WeakMap<object, string>();
function triggerFieldsUsedCached(nodes: ReturnType<typeof useEditor.getState>["nodes"]): string {
  let found = usedCache.get(nodes);
  if (found === undefined) {
    found = triggerFieldsUsed(nodes.filter(isStepNode).map((node) => node.data.config)).join(",");
    usedCache.set(nodes, found);
  }
  return found;
}

function useRunStream(run: TestRun | null, setRun: (update: (run: TestRun) => TestRun) => void) {
  const [connected, setConnected] = useState(false);
  const runId = run?.id;
  const wsUrl = run?.ws_url;
  useEffect(() => {
    if (!runId || !wsUrl) return;
    let closed = false;
    let poller: ReturnType<typeof setInterval> | null = null;
    // If the websocket cannot connect or drops, keep the panel alive by polling instead.
    const startPolling = () => {
      if (poller || closed) return;
      poller = setInterval(() => {
        endpoints.testRun(runId).then((snapshot) => setRun((current) => applyRunEvent(current, { type: "snapshot", ...snapshot })), () => undefined);
      }, POLL_MS);
    };
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${wsUrl}`);
    socket.onopen = () => setConnected(true);
    socket.onmessage = (message) => {
      try {
        const event = JSON.parse(String(message.data)) as TestRunEvent;
        setRun((current) => applyRunEvent(current, event));
      } catch {
        /* ignore malformed frames */
      }
    };
    socket.onerror = () => startPolling();
    socket.onclose = () => {
      setConnected(false);
      startPolling();
    };
    return () => {
      closed = true;
      if (poller) clearInterval(poller);
      socket.close();
    };
  }, [runId, wsUrl, setRun]);
  return connected;
}

/** A nested value as rows of (path, value): {"trigger": {"text": "oi"}} → trigger.text = oi. */
export function flatten(value: unknown, prefix = "", rows: [string, string][] = []): [string, string][] {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    // An empty group (no vars yet) adds no row.
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) flatten(inner, prefix ? `${prefix}.${key}` : key, rows);
  } else if (prefix) {
    rows.push([prefix, typeof value === "string" ? value : JSON.stringify(value)]);
  }
  return rows;
}

function ValueTable({ value, testId }: { value: unknown; testId?: string }) {
  const { t } = useT();
  const [raw, setRaw] = useState(false);
  const rows = flatten(value);
  if (rows.length === 0) return <span className="muted small">—</span>;
  return (
    <div className="value-table" data-testid={testId}>
      {raw ? (
        <pre className="json">{JSON.stringify(value, null, 2)}</pre>
      ) : (
        <table>
          <tbody>
            {rows.map(([path, text]) => (
              <tr key={path}>
                <th scope="row">
                  <code>{path}</code>
                </th>
                <td>{text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button type="button" className="link small" data-testid={testId ? `${testId}-json` : undefined} onClick={() => setRaw(!raw)}>
        {raw ? t("test.hideJson") : t("test.showJson")}
      </button>
    </div>
  );
}

interface ContactDraft {
  id: number | null;
  name: string;
  phone: string;
  optedIn: boolean;
  attributes: [string, string][];
}

function ContactForm({ draft, onChange, contacts }: { draft: ContactDraft; onChange: (draft: ContactDraft) => void; contacts: TestContact[] }) {
  const { t } = useT();
  return (
    <fieldset className="test-contact" data-testid="test-contact">
      <legend>{t("test.panelContact")}</legend>
      <select
        data-testid="test-contact-select"
        aria-label={t("test.panelContact")}
        value={draft.id ?? ""}
        onChange={(event) => {
          const chosen = contacts.find((contact) => String(contact.id) === event.target.value);
          onChange(
            chosen
              ? { id: chosen.id, name: chosen.name, phone: chosen.phone, optedIn: chosen.opted_in, attributes: Object.entries(chosen.attributes).map(([k, v]) => [k, String(v)]) }
              : { id: null, name: draft.id ? "" : draft.name, phone: "", optedIn: false, attributes: [] },
          );
        }}
      >
        <option value="">{t("test.contactNew")}</option>
        {contacts.map((contact) => (
          <option key={contact.id} value={contact.id}>
            {contact.name || contact.phone} · {contact.phone}
          </option>
        ))}
      </select>
      <div className="two-columns">
        <label className="field">
          <span>{t("test.contactName")}</span>
          <input data-testid="test-contact-name" value={draft.name} onChange={(event) => onChange({ ...draft, name: event.target.value })} />
        </label>
        <label className="field">
          <span>{t("test.contactPhone")}</span>
          <input
            data-testid="test-contact-phone"
            value={draft.phone}
            disabled={draft.id !== null}
            placeholder="+5511987654321"
            onChange={(event) => onChange({ ...draft, phone: event.target.value })}
          />
        </label>
      </div>
      <label className="checkbox-line">
        <input type="checkbox" data-testid="test-contact-optin" checked={draft.optedIn} onChange={(event) => onChange({ ...draft, optedIn: event.target.checked })} />
        {t("test.contactOptIn")}
      </label>
      <div className="field">
        <span>{t("test.contactAttributes")}</span>
        {draft.attributes.map(([key, value], index) => (
          <div className="attribute-row" key={index}>
            <input
              aria-label={t("test.attributeKey")}
              placeholder={t("test.attributeKey")}
              value={key}
              onChange={(event) => onChange({ ...draft, attributes: draft.attributes.map((row, i) => (i === index ? [event.target.value, row[1]] : row)) })}
            />
            <input
              aria-label={t("test.attributeValue")}
              placeholder={t("test.attributeValue")}
              value={value}
              onChange={(event) => onChange({ ...draft, attributes: draft.attributes.map((row, i) => (i === index ? [row[0], event.target.value] : row)) })}
            />
            <button type="button" className="icon-button" aria-label={t("common.remove")} onClick={() => onChange({ ...draft, attributes: draft.attributes.filter((_, i) => i !== index) })}>
              ×
            </button>
          </div>
        ))}
        <button type="button" className="link" onClick={() => onChange({ ...draft, attributes: [...draft.attributes, ["", ""]] })}>
          + {t("test.addAttribute")}
        </button>
      </div>
    </fieldset>
  );
}

interface EventField {
  name: string;
  type: string;
  sample: string;
}

function EventDataForm({ fields, values, onChange }: { fields: EventField[]; values: Record<string, string>; onChange: (values: Record<string, string>) => void }) {
  const { t } = useT();
  if (fields.length === 0) return <p className="muted small">{t("test.noEventFields")}</p>;
  return (
    <div className="event-form" data-testid="test-event-form">
      {fields.map((field) => (
        <label className="field" key={field.name}>
          <span>
            <code>trigger.{field.name}</code>
          </span>
          {field.type === "boolean" ? (
            <select data-testid={`test-field-${field.name}`} value={values[field.name] ?? ""} onChange={(event) => onChange({ ...values, [field.name]: event.target.value })}>
              <option value="">—</option>
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          ) : (
            <input
              data-testid={`test-field-${field.name}`}
              type={field.type === "number" ? "number" : "text"}
              value={values[field.name] ?? ""}
              placeholder={field.sample}
              onChange={(event) => onChange({ ...values, [field.name]: event.target.value })}
            />
          )}
        </label>
      ))}
    </div>
  );
}

function typed(field: EventField, text: string): unknown {
  if (field.type === "number" && text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
  if (field.type === "boolean") return text === "true";
  if ((field.type === "list" || field.type === "object") && text.trim()) {
    try {
      return JSON.parse(text);
    } catch {
      return field.type === "list" ? text.split(",").map((part) => part.trim()) : text;
    }
  }
  return text;
}

interface StartData {
  payload: Record<string, unknown> | undefined;
  contactId: number | undefined;
  firstMessage: Reply | null;
}

export function TestRunPanel({ flowId, beforeStart, onClose }: { flowId: number; beforeStart: () => Promise<number | null>; onClose: () => void }) {
  const { t, tOptional, label, language } = useT();
  // Not subscribed to the whole graph: typing in a block must not re-render the test panel.
  const triggerConfig = useEditor((state) => {
    const found = state.nodes.find((node) => isStepNode(node) && state.nodeTypes[node.data.nodeType]?.is_trigger);
    return found && isStepNode(found) ? found.data.config : undefined;
  });
  const usedFields = useEditor((state) => (state.nodes.length > 0 ? triggerFieldsUsedCached(state.nodes) : ""));
  const edges = useEditor((state) => state.edges);
  const nodeTypes = useEditor((state) => state.nodeTypes);
  const setRunTrace = useEditor((state) => state.setRunTrace);
  const selectOnly = useEditor((state) => state.selectOnly);
  const [run, setRunState] = useState<TestRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [openStep, setOpenStep] = useState<number | null>(null);
  const [contacts, setContacts] = useState<TestContact[]>([]);
  const [contact, setContact] = useState<ContactDraft>({ id: null, name: "", phone: "", optedIn: false, attributes: [] });
  const [rawJson, setRawJson] = useState(false);
  const lastStart = useRef<StartData | null>(null);
  const steps = useEditor.getState().nodes.filter(isStepNode);
  const external = triggerConfig?.event === "external";
  const eventFields: EventField[] = useMemo(() => {
    const declared = ((triggerConfig?.fields as Config[] | undefined) ?? []).map((field) => ({
      name: String(field.name ?? ""),
      type: String(field.type ?? "text"),
      sample: String(field.sample ?? ""),
    }));
    const names = new Set(declared.map((field) => field.name));
    const used = (usedFields ? usedFields.split(",") : []).filter((name) => !names.has(name));
    return [...declared.filter((field) => field.name), ...used.map((name) => ({ name, type: "text", sample: "" }))];
  }, [triggerConfig, usedFields]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [payloadText, setPayloadText] = useState("");
  useEffect(() => {
    setValues(Object.fromEntries(eventFields.map((field) => [field.name, field.sample])));
  }, [eventFields]);
  const setRun = useRef((update: (current: TestRun) => TestRun) => setRunState((current) => (current ? update(current) : current))).current;
  const connected = useRunStream(run, setRun);

  useEffect(() => {
    endpoints.testContacts().then(setContacts, () => undefined);
  }, [run?.id]);
  useEffect(() => {
    if (!run) return;
    setRunTrace(traceFromRun(run.steps, edges, run.run));
  }, [run, edges, setRunTrace]);
  // Leaving the panel clears the highlight.
  useEffect(() => () => setRunTrace({ activeNodeId: null, takenEdgeIds: [], visitedNodeIds: [] }), [setRunTrace]);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(errorText(failure, language));
    } finally {
      setBusy(false);
    }
  };

  const payloadFromForm = (): Record<string, unknown> => {
    if (rawJson) {
      try {
        return JSON.parse(payloadText || "{}") as Record<string, unknown>;
      } catch {
        throw new Error(t("test.badPayload"));
      }
    }
    return Object.fromEntries(eventFields.map((field) => [field.name, typed(field, values[field.name] ?? "")]));
  };

  const launch = async (data: StartData) => {
    const revision = await beforeStart();
    const created = await endpoints.startTestRun(flowId, revision ?? undefined, data.payload, data.contactId);
    lastStart.current = { ...data, contactId: created.contact?.id ?? data.contactId };
    setOpenStep(null);
    setRunState({ ...created, messages: created.messages ?? [], steps: created.steps ?? [], run: created.run ?? null });
    if (data.firstMessage) await endpoints.sendInbound(created.id, data.firstMessage);
  };

  const start = () =>
    act(async () => {
      const payload = external ? payloadFromForm() : undefined;
      const attributes = Object.fromEntries(contact.attributes.filter(([key]) => key.trim()).map(([key, value]) => [key.trim(), value]));
      let contactId = contact.id ?? undefined;
      if (contactId) {
        await endpoints.updateTestContact(contactId, { name: contact.name, attributes, opted_in: contact.optedIn });
      } else if (contact.name || contact.phone || contact.optedIn || Object.keys(attributes).length) {
        const created = await endpoints.createTestContact({ name: contact.name, phone: contact.phone, attributes, opted_in: contact.optedIn });
        contactId = created.id;
        setContact({ ...contact, id: created.id, phone: created.phone });
      }
      await launch({ payload, contactId, firstMessage: null });
    });

  const runAgain = () => act(async () => lastStart.current && launch(lastStart.current));

  const send = (reply: Reply) =>
    run &&
    act(async () => {
      if (lastStart.current && !lastStart.current.firstMessage && !external) lastStart.current.firstMessage = reply;
      await endpoints.sendInbound(run.id, reply);
    });
  const sendFile = (file: File, caption: string) =>
    run &&
    act(async () => {
      await endpoints.sendInboundFile(run.id, file, caption);
    });
  const stopped = run?.status === "stopped";
  const finished = stopped || Boolean(run?.run && FINISHED_RUN_STATUSES.includes(run.run.status));
  const waiting = Boolean(run?.run?.wake_at || run?.run?.wait_kind);
  const stepTitle = (nodeId: string, nodeType: string) => {
    const node = steps.find((candidate) => candidate.id === nodeId);
    return node ? blockName(node, nodeTypes, language) : label(nodeTypes[nodeType]?.label, nodeType);
  };
  const portTitle = (nodeId: string, nodeType: string, port: string | null) => {
    if (!port) return null;
    const node = steps.find((candidate) => candidate.id === nodeId);
    const found = portsFor(nodeTypes[node?.data.nodeType ?? nodeType], node?.data.config ?? {}).find((candidate) => candidate.key === port);
    return found ? label(found.label, port) : port;
  };
  const variables = run?.run?.context ? Object.fromEntries(Object.entries(run.run.context).filter(([key]) => key !== "started_at")) : null;

  return (
    <aside className="test-column test-run" data-testid="test-run-panel" aria-label={t("test.title")}>
      <header>
        <h2>{t("test.title")}</h2>
        {run && (
          <span className={`pill ${connected ? "ok" : ""}`} data-testid="run-status">
            {tOptional(`runStatus.${run.run?.status ?? run.status}`) ?? run.run?.status ?? run.status}
          </span>
        )}
        <button type="button" className="icon-button" aria-label={t("common.close")} onClick={onClose}>
          ×
        </button>
      </header>
      {error && (
        <p className="field-errors" role="alert" data-testid="test-error">
          {error}
        </p>
      )}
      {!run && (
        <div className="test-start">
          <p className="muted small">{t("test.explain")}</p>
          <ContactForm draft={contact} onChange={setContact} contacts={contacts} />
          {external && (
            <fieldset className="test-event">
              <legend>
                {t("test.eventData")}
                <button
                  type="button"
                  className="link small"
                  data-testid="test-payload-toggle"
                  onClick={() => {
                    if (!rawJson) setPayloadText(JSON.stringify(payloadFromForm(), null, 2));
                    setRawJson(!rawJson);
                  }}
                >
                  {rawJson ? t("test.form") : t("test.rawJson")}
                </button>
              </legend>
              {rawJson ? (
                <textarea data-testid="test-payload" rows={5} value={payloadText} onChange={(event) => setPayloadText(event.target.value)} />
              ) : (
                <>
                  <small className="hint">{t("test.eventDataHint")}</small>
                  <EventDataForm fields={eventFields} values={values} onChange={setValues} />
                </>
              )}
            </fieldset>
          )}
          <button type="button" className="primary" data-testid="test-start" disabled={busy} onClick={start}>
            {busy ? t("common.working") : t("test.start")}
          </button>
        </div>
      )}
      {run && (
        <>
          <p className="small muted" data-testid="test-contact-line">
            {t("test.contact")}: {run.contact?.name} {run.contact?.phone}
            {run.contact?.opted_in ? " · opt-in" : ""}
          </p>
          <div className="test-actions">
            <button type="button" data-testid="fast-forward" disabled={busy || !waiting || finished} onClick={() => act(() => endpoints.fastForward(run.id))}>
              » {t("test.fastForward")}
            </button>
            <button type="button" disabled={busy || finished} onClick={() => act(() => endpoints.stopTestRun(run.id))}>
              ■ {t("test.stop")}
            </button>
            <button type="button" data-testid="test-run-again" disabled={busy} onClick={runAgain}>
              ↻ {t("test.runAgain")}
            </button>
            <button type="button" disabled={busy} onClick={() => setRunState(null)}>
              ✎ {t("test.restart")}
            </button>
          </div>
          {run.run?.wake_at && <p className="small muted">{t("test.wakesAt", { at: formatDateTime(language, run.run.wake_at) })}</p>}
          {/* The chat stays open after a run ends: a new message may start the flow again. */}
          <Chat messages={run.messages} onSend={send} onSendFile={sendFile} disabled={busy || stopped} />
          <h3>{t("test.trace")}</h3>
          <ol className="steps" data-testid="trace">
            {[...run.steps]
              .sort((a, b) => a.seq - b.seq)
              .map((step) => {
                const port = portTitle(step.node_id, step.node_type, step.port);
                return (
                  <li key={step.seq} className={step.error ? "step failed" : "step"} data-testid="trace-step" data-node-id={step.node_id}>
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        setOpenStep(openStep === step.seq ? null : step.seq);
                        selectOnly(step.node_id);
                      }}
                    >
                      {step.seq}. <strong>{stepTitle(step.node_id, step.node_type)}</strong> → {port ?? tOptional(`outcome.${step.outcome}`) ?? step.outcome ?? "…"}
                    </button>
                    {Boolean(step.error) && <p className="field-errors small">{String(step.error)}</p>}
                    {openStep === step.seq && (
                      <dl className="step-details">
                        <dt>{t("test.input")}</dt>
                        <dd>
                          <ValueTable value={step.input} />
                        </dd>
                        <dt>{t("test.output")}</dt>
                        <dd>
                          <ValueTable value={step.output} testId="step-output" />
                        </dd>
                      </dl>
                    )}
                  </li>
                );
              })}
          </ol>
          {run.run && FINISHED_RUN_STATUSES.includes(run.run.status) && (
            // The engine's reason is a technical English note: the outcome in words, the note on hover.
            <p className="small muted" data-testid="run-end" title={run.run.end_reason ?? ""}>
              {t(run.run.status === "completed" ? "test.endedOk" : "test.endedFailed")}
              {run.run.status !== "completed" && run.run.end_reason ? ` — ${run.run.end_reason}` : ""}
            </p>
          )}
          <h3>{t("test.variables")}</h3>
          {variables ? <ValueTable value={variables} testId="variables" /> : <p className="muted small">{t("test.variablesEmpty")}</p>}
        </>
      )}
    </aside>
  );
}
