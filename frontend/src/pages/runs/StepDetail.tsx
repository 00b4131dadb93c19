// One step of a run, readable: which node, the port it left by (its label, not "c1"/"next"),
// how long it took, its error, its input and output as tables, and the raw JSON on demand.
import { useState } from "react";
import type { RunStepDetail } from "../../api/runs";
import type { Config, FlowDefinition, NodeTypeSpec } from "../../api/types";
import { portsFor } from "../../editor/ports";
import { formatDateTime, useT } from "../../i18n";
import { formatMicros, readable } from "./format";

export function ValueTable({ values, testId }: { values: Record<string, unknown>; testId?: string }) {
  const { t } = useT();
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return <p className="muted small">{t("runView.empty")}</p>;
  return (
    <table className="kv" data-testid={testId}>
      <thead>
        <tr>
          <th>{t("runView.name")}</th>
          <th>{t("runView.value")}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <td>
              <code>{key}</code>
            </td>
            <td className="kv-value">{readable(value) || <span className="muted">{t("runView.empty")}</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RawJson({ value, testId }: { value: unknown; testId?: string }) {
  const { t } = useT();
  const [open, setOpen] = useState(false);
  return (
    <div className="raw-json">
      <button type="button" className="link" onClick={() => setOpen(!open)} data-testid={testId}>
        {open ? t("runView.hideRaw") : t("runView.raw")}
      </button>
      {open && <pre>{JSON.stringify(value, null, 2)}</pre>}
    </div>
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

/** The label of the port a step left by, from the node's own ports at the run's revision. */
export function usePortLabel(definition: FlowDefinition, specs: Record<string, NodeTypeSpec>) {
  const { label } = useT();
  return (nodeId: string, port: string | null): string => {
    if (!port) return "";
    const node = definition.nodes.find((candidate) => candidate.id === nodeId);
    const spec = node ? specs[node.type] : undefined;
    const found = portsFor(spec, (node?.config ?? {}) as Config).find((candidate) => candidate.key === port);
    return found ? label(found.label, port) : port;
  };
}

export function StepDetail({
  step,
  definition,
  specs,
}: {
  step: RunStepDetail;
  definition: FlowDefinition;
  specs: Record<string, NodeTypeSpec>;
}) {
  const { t, label, tOptional, language } = useT();
  const portLabel = usePortLabel(definition, specs);
  const spec = specs[step.node_type];
  const input = asRecord(step.input);
  const resumed = "event_kind" in input;
  const error = typeof step.error === "string" ? step.error : readable(step.error);
  return (
    <article className={`step-detail${error ? " has-error" : ""}`} data-testid={`step-detail-${step.seq}`}>
      <header>
        <strong>
          {t("runView.step", { seq: step.seq })} · {label(spec?.label, step.node_type)}
        </strong>{" "}
        <code>{step.node_id}</code>
      </header>
      <dl className="facts">
        <dt>{t("runView.duration")}</dt>
        <dd>{formatMicros(step.duration_us, language)}</dd>
        <dt>{formatDateTime(language, step.started_at)}</dt>
        <dd>{tOptional(`runView.outcome.${error ? "error" : step.outcome}`) ?? step.outcome}</dd>
        {step.port && (
          <>
            <dt>{t("runView.left")}</dt>
            <dd data-testid="step-port">{portLabel(step.node_id, step.port)}</dd>
          </>
        )}
      </dl>
      {error && (
        <p className="step-error-box" role="alert" data-testid="step-error">
          <strong>{t("runView.error")}:</strong> {error}
        </p>
      )}
      <h4>{resumed ? t("runView.resumedBy", { kind: String(input.event_kind ?? "") }) : t("runView.input")}</h4>
      <ValueTable values={resumed ? asRecord(input.event) : asRecord(input.config ?? input)} testId="step-input" />
      <h4>{t("runView.output")}</h4>
      <ValueTable values={asRecord(step.output)} testId="step-output" />
      <RawJson value={step} testId="step-raw-toggle" />
    </article>
  );
}
