// The editor's canvas, read-only, showing one run on its pinned revision: the path taken
// highlighted (the editor's own run trace), each visited node's steps as a badge, and the node
// clicked reported to the page. A wrapper around the editor's Canvas: nothing of the editor changes.
import { ReactFlowProvider } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useEffect, useMemo, useState } from "react";
import type { RunDetail } from "../../api/runs";
import type { NodeTypeSpec } from "../../api/types";
import { Canvas } from "../../editor/Canvas";
import { useEditor } from "../../editor/store";
import { traceFromRun } from "../../editor/trace";
import { useT } from "../../i18n";
import { CanvasOverlayContext, type NodeOverlay } from "./overlay";

export function RunCanvas({
  run,
  specs,
  onSelectNode,
}: {
  run: RunDetail;
  specs: NodeTypeSpec[];
  onSelectNode: (nodeId: string | null) => void;
}) {
  const { t } = useT();
  const [loadedRevision, setLoadedRevision] = useState<number | null>(null);

  // The revision's graph goes into the editor store before the canvas first renders (its fit).
  useEffect(() => {
    const store = useEditor.getState();
    store.setNodeTypes(specs);
    store.load(run.revision.definition);
    setLoadedRevision(run.revision.id);
  }, [run.revision.id, run.revision.definition, specs]);

  // The path: re-drawn whenever the run changes (a retry adds steps).
  useEffect(() => {
    if (loadedRevision === null) return;
    const store = useEditor.getState();
    store.setRunTrace(traceFromRun(run.steps, store.edges, { ...run, context: {}, current_node: run.current_node || null }));
  }, [run, loadedRevision]);

  const selected = useEditor((state) => state.nodes.find((node) => node.selected)?.id ?? null);
  useEffect(() => onSelectNode(selected), [selected, onSelectNode]);

  const overlay = useMemo(() => {
    const byNode: Record<string, NodeOverlay> = {};
    const grouped = new Map<string, typeof run.steps>();
    for (const step of run.steps) grouped.set(step.node_id, [...(grouped.get(step.node_id) ?? []), step]);
    for (const [nodeId, steps] of grouped) {
      const failed = steps.some((step) => step.error);
      byNode[nodeId] = {
        badge: (
          <span className={`step-badges${failed ? " failed" : ""}`}>
            {steps.map((step) => (
              <span key={step.seq} className={`step-badge outcome-${step.error ? "error" : step.outcome}`} title={t("runView.step", { seq: step.seq })}>
                #{step.seq}
              </span>
            ))}
          </span>
        ),
      };
    }
    return byNode;
  }, [run, t]);

  if (loadedRevision !== run.revision.id) return <p className="muted page-loading">{t("common.loading")}</p>;
  return (
    <ReactFlowProvider>
      <CanvasOverlayContext.Provider value={overlay}>
        <Canvas readOnly />
      </CanvasOverlayContext.Provider>
    </ReactFlowProvider>
  );
}
