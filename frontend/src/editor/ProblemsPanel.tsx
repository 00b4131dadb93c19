import { useReactFlow } from "@xyflow/react";
import { useT } from "../i18n";
import { blockName } from "./names";
import { useEditor } from "./store";

/** Centres a node on the canvas and selects it. */
export function useFocusNode() {
  const selectOnly = useEditor((state) => state.selectOnly);
  const flow = useReactFlow();
  return (nodeId: string) => {
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
}

/** Every validation problem and warning; clicking one selects its node and brings it into view. */
export function ProblemsPanel() {
  const { t, label, language } = useT();
  const problems = useEditor((state) => state.problems);
  const nodeTypes = useEditor((state) => state.nodeTypes);
  const focus = useFocusNode();
  const errors = problems.filter((problem) => problem.severity !== "warning");
  const warnings = problems.filter((problem) => problem.severity === "warning");
  const ordered = [...errors, ...warnings];

  return (
    <section className="problems" data-testid="problems-panel" aria-label={t("problems.title")}>
      <h3>
        {t("problems.title")} <span className={errors.length ? "count bad" : "count"} title={t("problems.errors")}>{errors.length}</span>
        {warnings.length > 0 && (
          <span className="count warn" title={t("problems.warnings")} data-testid="warning-count">
            {warnings.length} {warnings.length === 1 ? t("problems.warningOne") : t("problems.warnings")}
          </span>
        )}
      </h3>
      {ordered.length === 0 ? (
        <p className="muted small">{t("problems.none")}</p>
      ) : (
        <ul>
          {ordered.map((problem, index) => {
            const node = problem.node_id ? useEditor.getState().nodes.find((n) => n.id === problem.node_id) : undefined;
            const nodeName = node ? blockName(node, nodeTypes, language) : t("problems.flow");
            const warning = problem.severity === "warning";
            return (
              <li key={`${problem.node_id}-${problem.code}-${index}`} className={warning ? "warning" : "error"}>
                <button
                  type="button"
                  className="problem"
                  data-testid={warning ? "warning" : "problem"}
                  data-code={problem.code}
                  disabled={!problem.node_id}
                  onClick={() => problem.node_id && focus(problem.node_id)}
                >
                  <span aria-hidden>{warning ? "⚠" : "✖"}</span> <strong>{nodeName}</strong>: {label(problem.message, problem.code)}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
