// A step on the canvas: its name (or type), a summary of its config, one output handle per port
// with a "+" that adds the next block connected, pinned problems, run and history highlight.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { createContext, memo, useContext } from "react";
import { useT } from "../i18n";
import { configFor } from "../nodes/registry";
import { PortOverlay, StepOverlay } from "../pages/runs/overlay";
import { useEditorState, useEditorStoreApi } from "./context";
import { isStepNode, type StepNode, type StepNodeData } from "./graph";
import { portsFor } from "./ports";
import { nodeById, portsUsedBy, problemsOf } from "./store";

/** Whether the surrounding canvas is read-only (no "+" buttons, nothing to drag). */
export const ReadOnlyContext = createContext(false);

function StepCardView({ id, selected }: NodeProps<StepNode>) {
  // The config lives in the editor store (React Flow only gets the layout, see Canvas). A block
  // just removed from the store (undo, delete) is drawn once more by React Flow: draw nothing.
  const data = useEditorState((state) => {
    const node = nodeById(state.nodes, id);
    return node && isStepNode(node) ? node.data : undefined;
  });
  return data ? <StepCardBody id={id} data={data} selected={Boolean(selected)} /> : null;
}

function StepCardBody({ id, data, selected }: { id: string; data: StepNodeData; selected: boolean }) {
  const { t, label } = useT();
  const store = useEditorStoreApi();
  const readOnly = useContext(ReadOnlyContext);
  const spec = useEditorState((state) => state.nodeTypes[data.nodeType]);
  const problems = useEditorState((state) => problemsOf(state.problems, id));
  const active = useEditorState((state) => state.activeNodeId === id);
  const visited = useEditorState((state) => state.visitedNodeIds.includes(id));
  const mark = useEditorState((state) => state.diffMarks[id]);
  const connected = useEditorState((state) => portsUsedBy(state.edges, id));
  const Body = configFor(data.nodeType).body;
  const ports = portsFor(spec, data.config);
  const errors = problems.filter((problem) => problem.severity !== "warning");
  const warnings = problems.filter((problem) => problem.severity === "warning");
  const shown = errors[0] ?? warnings[0];
  const typeLabel = label(spec?.label, data.nodeType);
  const classes = [
    "step-card",
    selected && "selected",
    errors.length > 0 && "has-errors",
    errors.length === 0 && warnings.length > 0 && "has-warnings",
    active && "run-active",
    visited && "run-visited",
    mark && `diff-${mark}`,
  ]
    .filter(Boolean)
    .join(" ");
  const used = new Set(connected.split("|"));
  return (
    <div className={classes} data-testid={`node-${id}`} data-node-type={data.nodeType}>
      {!spec?.is_trigger && <Handle type="target" position={Position.Left} id="in" data-testid={`target-${id}`} />}
      <header>
        <span className="step-icon" aria-hidden>
          {spec?.glyph ?? "●"}
        </span>
        <strong className="step-title" title={data.name ? `${data.name} · ${typeLabel}` : typeLabel}>
          {data.name || typeLabel}
        </strong>
        {errors.length > 0 && (
          <span className="error-badge" data-testid={`node-errors-${id}`} title={errors.map((p) => label(p.message)).join("\n")}>
            {errors.length}
          </span>
        )}
        {warnings.length > 0 && (
          <span className="warning-badge" data-testid={`node-warnings-${id}`} title={warnings.map((p) => label(p.message)).join("\n")}>
            !
          </span>
        )}
      </header>
      <StepOverlay nodeId={id} />
      {data.name && <p className="step-type">{typeLabel}</p>}
      <div className="step-body">
        <Body config={data.config} spec={spec} />
      </div>
      {shown && (
        <p className={shown.severity === "warning" ? "step-warning" : "step-error"} title={label(shown.message)}>
          {label(shown.message)}
        </p>
      )}
      <ul className="ports">
        {ports.map((port) => {
          const portLabel = label(port.label, port.key);
          return (
            <li key={port.key}>
              <span>{portLabel}</span>
              {!readOnly && !used.has(port.key) && (
                <button
                  type="button"
                  className="port-add nodrag nopan"
                  data-testid={`port-add-${id}-${port.key}`}
                  title={t("quick.addAfter", { port: portLabel })}
                  aria-label={t("quick.addAfter", { port: portLabel })}
                  onClick={(event) => {
                    event.stopPropagation();
                    const box = (event.currentTarget as HTMLElement).getBoundingClientRect();
                    store.getState().openQuickAdd({ source: id, port: port.key, screen: { x: box.right, y: box.top }, at: null });
                  }}
                >
                  +
                </button>
              )}
              <PortOverlay nodeId={id} port={port.key} />
              <Handle type="source" position={Position.Right} id={port.key} data-testid={`port-${id}-${port.key}`} />
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export const StepCard = memo(StepCardView);
