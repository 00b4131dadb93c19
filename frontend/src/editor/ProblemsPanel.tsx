import { useReactFlow } from "@xyflow/react";
import { useT } from "../i18n";
import { isStepNode } from "./graph";
import { useEditor } from "./store";

/** Every validation problem; clicking one selects its node and brings it into view. */
export function ProblemsPanel() {
  const { t, label } = useT();
  const problems = useEditor((state) => state.problems);
  const nodes = useEditor((state) => state.nodes);
  const nodeTypes = useEditor((state) => state.nodeTypes);
  const selectOnly = useEditor((state) => state.selectOnly);
  const flow = useReactFlow();

  const focus = (nodeId: string) => {
    selectOnly(nodeId);
    const node = flow.getInternalNode(nodeId);
    if (node) {
      const width = node.measured.width ?? 200;
      const height = node.measured.height ?? 80;
      void flow.setCenter(node.internals.positionAbsolute.x + width / 2, node.internals.positionAbsolute.y + height / 2, {
        zoom: Math.max(flow.getZoom(), 0.8),
        duration: 300,
      });
    }
  };

  return (
    <section className="problems" data-testid="problems-panel" aria-label={t("problems.title")}>
      <h3>
        {t("problems.title")} <span className={problems.length ? "count bad" : "count"}>{problems.length}</span>
      </h3>
      {problems.length === 0 ? (
        <p className="muted small">{t("problems.none")}</p>
      ) : (
        <ul>
          {problems.map((problem, index) => {
            const node = problem.node_id ? nodes.find((n) => n.id === problem.node_id) : undefined;
            const nodeName = node && isStepNode(node) ? label(nodeTypes[node.data.nodeType]?.label, node.data.nodeType) : t("problems.flow");
            return (
              <li key={`${problem.node_id}-${problem.code}-${index}`}>
                <button
                  type="button"
                  className="problem"
                  data-testid="problem"
                  disabled={!problem.node_id}
                  onClick={() => problem.node_id && focus(problem.node_id)}
                >
                  <strong>{nodeName}</strong>: {label(problem.message, problem.code)}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
