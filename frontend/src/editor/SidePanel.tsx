// The form for the selected step, chosen through the node registry.
import { useShallow } from "zustand/react/shallow";
import { ErrorBoundary } from "../ErrorBoundary";
import { useT } from "../i18n";
import { configFor } from "../nodes/registry";
import { isStepNode } from "./graph";
import { useEditor } from "./store";

/** For a step the validator gave no scope (not connected yet): the variables every step has. */
function variablesEverywhere(scope: Record<string, string[]>): string[] {
  const lists = Object.values(scope);
  if (lists.length === 0) return [];
  return lists.reduce((common, list) => common.filter((name) => list.includes(name)));
}

export function SidePanel({ readOnly }: { readOnly: boolean }) {
  const { t, label } = useT();
  const selected = useEditor(useShallow((state) => state.nodes.filter((node) => node.selected)));
  const nodeTypes = useEditor((state) => state.nodeTypes);
  const problems = useEditor((state) => state.problems);
  const scope = useEditor((state) => state.scope);
  const updateConfig = useEditor((state) => state.updateConfig);
  const deleteSelected = useEditor((state) => state.deleteSelected);
  const setName = useEditor((state) => state.setName);

  const steps = selected.filter(isStepNode);
  if (steps.length !== 1 || selected.length !== 1) {
    return (
      <aside className="side-panel empty" data-testid="side-panel">
        <p className="muted">{selected.length > 1 ? t("panel.multiple", { n: selected.length }) : t("panel.nothingSelected")}</p>
      </aside>
    );
  }
  const node = steps[0];
  const spec = nodeTypes[node.data.nodeType];
  const typeLabel = label(spec?.label, node.data.nodeType);
  const Form = configFor(node.data.nodeType).form;
  const nodeProblems = problems.filter((problem) => problem.node_id === node.id);
  return (
    <aside className="side-panel" data-testid="side-panel" aria-label={t("panel.title")}>
      <h2>
        <span className="step-icon" aria-hidden>{spec?.glyph}</span> {node.data.name || typeLabel}
      </h2>
      <p className="muted small">{label(spec?.description)}</p>
      <label className="field">
        <span>{t("panel.name")}</span>
        <input
          key={node.id}
          data-testid="node-name"
          maxLength={80}
          disabled={readOnly}
          defaultValue={node.data.name ?? ""}
          placeholder={typeLabel}
          onBlur={(event) => event.target.value !== (node.data.name ?? "") && setName(node.id, event.target.value)}
          onKeyDown={(event) => event.key === "Enter" && (event.target as HTMLInputElement).blur()}
        />
      </label>
      <p className="muted small panel-meta">
        id: <code data-testid="node-id">{node.id}</code>
        {!readOnly && (
          <button type="button" className="link danger" data-testid="delete-node" onClick={() => deleteSelected()}>
            {t("panel.delete")}
          </button>
        )}
      </p>
      {nodeProblems.some((problem) => !problem.field) && (
        <ul className="field-errors" role="alert" data-testid="node-problems">
          {nodeProblems
            .filter((problem) => !problem.field)
            .map((problem, index) => (
              <li key={index} className={problem.severity === "warning" ? "warning" : undefined}>
                {label(problem.message, problem.code)}
              </li>
            ))}
        </ul>
      )}
      {spec ? (
        <fieldset disabled={readOnly} className="node-form">
          <ErrorBoundary resetKey={node.id}>
          <Form
            key={node.id}
            nodeId={node.id}
            config={node.data.config}
            spec={spec}
            scope={scope[node.id] ?? variablesEverywhere(scope)}
            errors={nodeProblems}
            onChange={(config) => updateConfig(node.id, config)}
          />
          </ErrorBoundary>
        </fieldset>
      ) : (
        <p className="field-errors">{t("panel.unknownType", { type: node.data.nodeType })}</p>
      )}
    </aside>
  );
}
