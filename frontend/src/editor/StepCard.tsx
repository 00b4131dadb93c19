// A step on the canvas: title from the node-type registry, a config summary, one output handle
// per port (branch: per condition plus default), pinned validation errors and run highlight.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { useShallow } from "zustand/react/shallow";
import { useT } from "../i18n";
import { configFor } from "../nodes/registry";
import { iconFor } from "../nodes/icons";
import { PortOverlay, StepOverlay } from "../pages/runs/overlay";
import type { StepNode } from "./graph";
import { portsFor } from "./ports";
import { useEditor } from "./store";

function StepCardView({ id, data, selected }: NodeProps<StepNode>) {
  const { label } = useT();
  const spec = useEditor((state) => state.nodeTypes[data.nodeType]);
  const problems = useEditor(useShallow((state) => state.problems.filter((problem) => problem.node_id === id)));
  const active = useEditor((state) => state.activeNodeId === id);
  const visited = useEditor((state) => state.visitedNodeIds.includes(id));
  const Body = configFor(data.nodeType).body;
  const ports = portsFor(spec, data.config);
  const classes = ["step-card", selected && "selected", problems.length > 0 && "has-errors", active && "run-active", visited && "run-visited"]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={classes} data-testid={`node-${id}`} data-node-type={data.nodeType}>
      {!spec?.is_trigger && <Handle type="target" position={Position.Left} id="in" data-testid={`target-${id}`} />}
      <header>
        <span className="step-icon" aria-hidden>
          {iconFor(spec?.icon)}
        </span>
        <strong>{label(spec?.label, data.nodeType)}</strong>
        {problems.length > 0 && (
          <span className="error-badge" data-testid={`node-errors-${id}`} title={problems.map((p) => label(p.message)).join("\n")}>
            {problems.length}
          </span>
        )}
      </header>
      <StepOverlay nodeId={id} />
      <div className="step-body">
        <Body config={data.config} />
      </div>
      {problems.length > 0 && <p className="step-error">{label(problems[0].message)}</p>}
      <ul className="ports">
        {ports.map((port) => (
          <li key={port.key}>
            <span>{label(port.label, port.key)}</span>
            <PortOverlay nodeId={id} port={port.key} />
            <Handle type="source" position={Position.Right} id={port.key} data-testid={`port-${id}-${port.key}`} />
          </li>
        ))}
      </ul>
    </div>
  );
}

export const StepCard = memo(StepCardView);
