// One run, opened on its flow's canvas at the revision it ran: path, steps, messages, the event
// that started it, operators' actions, and the actions the person's role allows.
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { runsApi, type RunDetail } from "../../api/runs";
import type { NodeTypeSpec, User } from "../../api/types";
import { formatDateTime, useT } from "../../i18n";
import { Link } from "../../router";
import { formatDuration, secondsBetween } from "./format";
import { RunCanvas } from "./RunCanvas";
import "./runs.css";
import { RunStatusPill } from "./StatusPill";
import { RawJson, StepDetail, usePortLabel, ValueTable } from "./StepDetail";

type Tab = "steps" | "messages" | "event" | "actions";

function messageText(content: Record<string, unknown>): string {
  const text = (content.text as { body?: string } | undefined)?.body;
  return String(content.rendered_text ?? text ?? (content.template as { name?: string } | undefined)?.name ?? "");
}

export function RunViewPage({ runId, user }: { runId: number; user: User }) {
  const { t, tOptional, label, language } = useT();
  const [run, setRun] = useState<RunDetail | null>(null);
  const [specs, setSpecs] = useState<NodeTypeSpec[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [selectedNode, setSelectedNode] = useState<string | null>(null);
  const [selectedSeq, setSelectedSeq] = useState<number | null>(null);
  const [tab, setTab] = useState<Tab>("steps");
  const [usePublished, setUsePublished] = useState(true);
  const [busy, setBusy] = useState(false);
  const canAct = user.roles.includes("editor") || user.roles.includes("admin");

  const reload = useCallback(async () => {
    try {
      const detail = await runsApi.detail(runId);
      setRun(detail);
      return detail;
    } catch (failure) {
      setError((failure as Error).message);
      return null;
    }
  }, [runId]);

  useEffect(() => {
    void reload();
    endpoints.nodeTypes().then(setSpecs, (failure: Error) => setError(failure.message));
  }, [reload]);

  // While an action is pending, follow it until the contact's processor has applied it; a run
  // that is moving (active, or waiting on a company API / AI call, which answers in seconds) is
  // followed closely, one waiting on a customer or a delay now and then.
  const pending = run?.actions.some((action) => action.state === "pending") ?? false;
  const moving = run?.status === "active" || (run?.status === "waiting" && run?.wait_kind === "call");
  const waiting = run?.status === "waiting";
  useEffect(() => {
    if (!pending && !moving && !waiting) return;
    const timer = setInterval(() => void reload(), pending || moving ? 1000 : 10_000);
    return () => clearInterval(timer);
  }, [pending, moving, waiting, reload]);

  const specMap = useMemo(() => Object.fromEntries((specs ?? []).map((spec) => [spec.key, spec])), [specs]);
  const portLabel = usePortLabel(run?.revision.definition ?? { spec_version: 1, nodes: [], edges: [] }, specMap);
  const onSelectNode = useCallback((nodeId: string | null) => {
    setSelectedNode(nodeId);
    if (nodeId) setTab("steps");
  }, []);

  if (error) return <p className="page-error" role="alert">{error}</p>;
  if (!run || !specs) return <p className="muted page-loading">{t("common.loading")}</p>;

  const act = async (action: "cancel" | "retry" | "restart") => {
    setBusy(true);
    try {
      await runsApi.act(run.id, action, usePublished);
      setNotice(t("runView.actionQueued"));
      await reload();
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.body.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  const published = run.flow.published_revision;
  const offerPublished = published !== null && published !== run.revision.revision;
  const nodeSteps = selectedNode ? run.steps.filter((step) => step.node_id === selectedNode) : run.steps;
  const focused = run.steps.find((step) => step.seq === selectedSeq) ?? (selectedNode ? nodeSteps[nodeSteps.length - 1] : undefined);
  const nodeLabel = (nodeId: string) => {
    const node = run.revision.definition.nodes.find((candidate) => candidate.id === nodeId);
    return node ? `${label(specMap[node.type]?.label, node.type)} (${nodeId})` : nodeId;
  };

  return (
    <div className="run-view" data-testid="run-view">
      <header className="run-header">
        <Link to={`/runs?flow=${run.flow.id}`} className="back">
          {t("runView.back")}
        </Link>
        <h1>{t("runView.title", { id: run.id })}</h1>
        <RunStatusPill status={run.status} />
        <span>
          <Link to={`/flows/${run.flow.id}`}>{run.flow.name}</Link> · {t("runView.revision", { n: run.revision.revision })}{" "}
          {offerPublished && <span className="muted small">{t("runView.publishedIs", { n: published })}</span>}
        </span>
        <span className="muted">
          {t("runView.contact")}: {run.contact.name || "—"} <code>{run.contact.phone}</code>
        </span>
        <span className="spacer" />
        {canAct && !run.is_test && (
          <span className="run-actions">
            {offerPublished && ["failed", "cancelled", "expired"].includes(run.status) && (
              <label className="small">
                <input type="checkbox" checked={usePublished} onChange={(event) => setUsePublished(event.target.checked)} data-testid="use-published" />{" "}
                {t("runView.usePublished", { n: published ?? "" })}
              </label>
            )}
            {["waiting", "active"].includes(run.status) && (
              <button type="button" disabled={busy} onClick={() => void act("cancel")} data-testid="run-cancel">
                {t("runView.cancel")}
              </button>
            )}
            {run.status === "failed" && (
              <button type="button" className="primary" disabled={busy} onClick={() => void act("retry")} data-testid="run-retry">
                ↻ {t("runView.retry")}
              </button>
            )}
            {["failed", "cancelled", "expired"].includes(run.status) && (
              <button type="button" disabled={busy} onClick={() => void act("restart")} data-testid="run-restart">
                {t("runView.restart")}
              </button>
            )}
          </span>
        )}
      </header>
      <div className="run-facts">
        <span>
          {t("runView.started")}: {formatDateTime(language, run.started_at)}
        </span>
        {run.ended_at && (
          <span>
            {t("runView.ended")}: {formatDateTime(language, run.ended_at)} ({formatDuration(secondsBetween(run.started_at, run.ended_at), language)})
          </span>
        )}
        {run.status === "waiting" && (
          <span>
            {t("runView.waitingFor", { kind: run.wait_kind, node: nodeLabel(run.current_node) })}{" "}
            {run.wake_at && t("runView.wakeAt", { at: formatDateTime(language, run.wake_at) })}
          </span>
        )}
        {run.end_reason && (
          <span className={run.status === "failed" ? "danger-text" : ""} data-testid="run-end-reason">
            {t("runView.endReason")}: {run.end_reason}
          </span>
        )}
        {run.parent_run && (
          <Link to={`/runs/${run.parent_run}`}>
            {t("runView.parentRun")} #{run.parent_run}
          </Link>
        )}
        {run.child_runs.map((child) => (
          <Link key={child.id} to={`/runs/${child.id}`}>
            {t("runView.childRuns")} #{child.id} ({tOptional(`runStatus.${child.status}`)})
          </Link>
        ))}
      </div>
      {notice && (
        <div className="banner info" data-testid="run-notice">
          {notice}
          <button type="button" className="icon-button" aria-label={t("common.close")} onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      <div className="run-body">
        <main className="canvas-column">
          <RunCanvas run={run} specs={specs} onSelectNode={onSelectNode} />
        </main>
        <aside className="run-panel" data-testid="run-panel">
          <nav className="tabs">
            {(["steps", "messages", "event", "actions"] as Tab[]).map((name) => (
              <button key={name} type="button" aria-pressed={tab === name} onClick={() => setTab(name)} data-testid={`tab-${name}`}>
                {name === "steps" && `${t("runView.timeline")} (${run.steps.length})`}
                {name === "messages" && `${t("runView.messages")} (${run.messages.length})`}
                {name === "event" && t("runView.event")}
                {name === "actions" && `${t("runView.actions")} (${run.actions.length})`}
              </button>
            ))}
          </nav>
          {tab === "steps" && (
            <section>
              <p className="muted small">{selectedNode ? `${t("runView.stepsOfNode")}: ${nodeLabel(selectedNode)}` : t("runView.timelineHint")}</p>
              {selectedNode && nodeSteps.length === 0 && <p className="muted">{t("runView.noStepsHere")}</p>}
              <ol className="timeline" data-testid="timeline">
                {nodeSteps.map((step) => (
                  <li key={step.seq} className={`${step.error ? "error" : ""} ${focused?.seq === step.seq ? "focused" : ""}`}>
                    <button type="button" className="link" onClick={() => setSelectedSeq(step.seq)} data-testid={`timeline-step-${step.seq}`}>
                      #{step.seq} {nodeLabel(step.node_id)}
                    </button>
                    <span className="muted small">
                      {step.error ? `⚠ ${tOptional("runView.outcome.error")}` : step.port ? `→ ${portLabel(step.node_id, step.port)}` : tOptional(`runView.outcome.${step.outcome}`)}
                    </span>
                  </li>
                ))}
              </ol>
              {focused && <StepDetail step={focused} definition={run.revision.definition} specs={specMap} />}
              <h4>{t("runView.variables")}</h4>
              <ValueTable values={run.vars} testId="run-vars" />
              <h4>{t("runView.trigger")}</h4>
              <ValueTable values={run.trigger} testId="run-trigger" />
              <RawJson value={run.context} />
            </section>
          )}
          {tab === "messages" && (
            <section data-testid="run-messages">
              {run.messages.length === 0 && <p className="muted">{t("runView.noMessages")}</p>}
              <ul className="run-messages">
                {run.messages.map((message) => (
                  <li key={message.id} className={message.direction}>
                    <p>{messageText(message.content) || <code>{message.kind}</code>}</p>
                    <span className={`pill msg-${message.status}`} data-testid="message-status">
                      {tOptional(`msgStatus.${message.status}`) ?? message.status}
                    </span>{" "}
                    <span className="muted small">
                      {formatDateTime(language, message.created_at)}
                      {message.delivered_at && ` · ${tOptional("msgStatus.delivered")} ${formatDateTime(language, message.delivered_at)}`}
                      {message.read_at && ` · ${tOptional("msgStatus.read")} ${formatDateTime(language, message.read_at)}`}
                    </span>
                    {message.error && (
                      <p className="danger-text small">
                        {message.error_code && <code>{message.error_code}</code>} {message.error}
                      </p>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}
          {tab === "event" && (
            <section data-testid="run-event">
              {run.trigger_event ? (
                <>
                  <p>
                    <code>{run.trigger_event.kind}</code> · {formatDateTime(language, run.trigger_event.received_at)} · #{run.trigger_event.id}
                  </p>
                  <ValueTable values={run.trigger_event.payload} />
                  <RawJson value={run.trigger_event} />
                </>
              ) : (
                <p className="muted">{t("runView.noEvent")}</p>
              )}
            </section>
          )}
          {tab === "actions" && (
            <section data-testid="run-actions-log">
              <ul className="audit">
                {run.actions.map((action) => (
                  <li key={action.id}>
                    {t("runView.actionBy", {
                      action: tOptional(`action.${action.action}`) ?? action.action,
                      who: action.requested_by ?? "—",
                      at: formatDateTime(language, action.requested_at),
                    })}{" "}
                    <span className="pill">{tOptional(`actionState.${action.state}`) ?? action.state}</span>
                    {action.result && <div className="muted small">{action.result}</div>}
                    {action.new_run && <Link to={`/runs/${action.new_run}`}>{t("runView.newRun", { id: action.new_run })}</Link>}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </aside>
      </div>
    </div>
  );
}
