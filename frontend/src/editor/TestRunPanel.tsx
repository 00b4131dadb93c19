// Test run: runs the current draft in simulation mode on a sandbox contact. The chat and the
// step trace stream over the websocket; the canvas highlights the active node and taken edges.
import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { TestRun, TestRunEvent } from "../api/types";
import { formatDateTime, useT } from "../i18n";
import { Chat, type Reply } from "./Chat";
import { isStepNode } from "./graph";
import { useEditor } from "./store";
import { applyRunEvent, FINISHED_RUN_STATUSES, traceFromRun, triggerFieldsUsed } from "./trace";

const POLL_MS = 1500;

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

function Json({ value }: { value: unknown }) {
  if (value === null || value === undefined || (typeof value === "object" && Object.keys(value as object).length === 0)) {
    return <span className="muted">—</span>;
  }
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function TestRunPanel({ flowId, beforeStart, onClose }: { flowId: number; beforeStart: () => Promise<number | null>; onClose: () => void }) {
  const { t, tOptional, label, language } = useT();
  const nodes = useEditor((state) => state.nodes);
  const edges = useEditor((state) => state.edges);
  const nodeTypes = useEditor((state) => state.nodeTypes);
  const setRunTrace = useEditor((state) => state.setRunTrace);
  const selectOnly = useEditor((state) => state.selectOnly);
  const [run, setRunState] = useState<TestRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [openStep, setOpenStep] = useState<number | null>(null);
  const steps = nodes.filter(isStepNode);
  const trigger = steps.find((node) => nodeTypes[node.data.nodeType]?.is_trigger);
  const external = trigger?.data.config.event === "external";
  const [payload, setPayload] = useState(() =>
    JSON.stringify(Object.fromEntries(triggerFieldsUsed(steps.map((node) => node.data.config)).map((name) => [name, ""])), null, 2),
  );
  const setRun = useRef((update: (current: TestRun) => TestRun) => setRunState((current) => (current ? update(current) : current))).current;
  const connected = useRunStream(run, setRun);

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
      setError(failure instanceof ApiError ? failure.body.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  const start = () =>
    act(async () => {
      let parsed: Record<string, unknown> | undefined;
      if (external) {
        try {
          parsed = JSON.parse(payload || "{}") as Record<string, unknown>;
        } catch {
          throw new Error(t("test.badPayload"));
        }
      }
      const revision = await beforeStart();
      const created = await endpoints.startTestRun(flowId, revision ?? undefined, parsed);
      setRunState({ ...created, messages: created.messages ?? [], steps: created.steps ?? [], run: created.run ?? null });
    });

  const send = (reply: Reply) => run && act(() => endpoints.sendInbound(run.id, reply));
  const stopped = run?.status === "stopped";
  const finished = stopped || Boolean(run?.run && FINISHED_RUN_STATUSES.includes(run.run.status));
  const waiting = Boolean(run?.run?.wake_at || run?.run?.wait_kind);
  const nodeLabel = (nodeId: string, nodeType: string) => {
    const node = steps.find((candidate) => candidate.id === nodeId);
    return label(nodeTypes[node?.data.nodeType ?? nodeType]?.label, nodeType);
  };

  return (
    <aside className="drawer test-run" data-testid="test-run-panel" aria-label={t("test.title")}>
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
      <p className="muted small">{t("test.explain")}</p>
      {error && (
        <p className="field-errors" role="alert">
          {error}
        </p>
      )}
      {!run && (
        <div className="test-start">
          {external && (
            <label className="field">
              <span>{t("test.payload")}</span>
              <textarea data-testid="test-payload" rows={4} value={payload} onChange={(event) => setPayload(event.target.value)} />
            </label>
          )}
          <button type="button" className="primary" data-testid="test-start" disabled={busy} onClick={start}>
            {busy ? t("common.working") : t("test.start")}
          </button>
        </div>
      )}
      {run && (
        <>
          <p className="small muted">
            {t("test.contact")}: {run.contact?.name} {run.contact?.phone}
          </p>
          <div className="test-actions">
            <button type="button" data-testid="fast-forward" disabled={busy || !waiting || finished} onClick={() => act(() => endpoints.fastForward(run.id))}>
              » {t("test.fastForward")}
            </button>
            {run.run?.wake_at && <span className="small muted">{t("test.wakesAt", { at: formatDateTime(language, run.run.wake_at) })}</span>}
            <button type="button" disabled={busy || finished} onClick={() => act(() => endpoints.stopTestRun(run.id))}>
              ■ {t("test.stop")}
            </button>
            <button type="button" disabled={busy} onClick={() => setRunState(null)}>
              ↺ {t("test.restart")}
            </button>
          </div>
          {/* The chat stays open after a run ends: a new message may start the flow again. */}
          <Chat messages={run.messages} onSend={send} disabled={busy || stopped} />
          <h3>{t("test.trace")}</h3>
          <ol className="steps" data-testid="trace">
            {[...run.steps]
              .sort((a, b) => a.seq - b.seq)
              .map((step) => (
                <li key={step.seq} className={step.error ? "step failed" : "step"} data-testid="trace-step" data-node-id={step.node_id}>
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      setOpenStep(openStep === step.seq ? null : step.seq);
                      selectOnly(step.node_id);
                    }}
                  >
                    {step.seq}. {nodeLabel(step.node_id, step.node_type)} → {step.port || tOptional(`outcome.${step.outcome}`) || step.outcome || "…"}
                  </button>
                  {openStep === step.seq && (
                    <dl>
                      <dt>{t("test.input")}</dt>
                      <dd>
                        <Json value={step.input} />
                      </dd>
                      <dt>{t("test.output")}</dt>
                      <dd>
                        <Json value={step.output} />
                      </dd>
                      {Boolean(step.error) && (
                        <>
                          <dt>{t("test.error")}</dt>
                          <dd>
                            <Json value={step.error} />
                          </dd>
                        </>
                      )}
                    </dl>
                  )}
                </li>
              ))}
          </ol>
          <h3>{t("test.variables")}</h3>
          <div data-testid="variables">
            <Json value={run.run?.context} />
          </div>
        </>
      )}
    </aside>
  );
}
