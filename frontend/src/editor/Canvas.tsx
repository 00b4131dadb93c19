import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Edge,
  type NodeTypes,
} from "@xyflow/react";
import { useCallback, useMemo, useState, type DragEvent, type KeyboardEvent } from "react";
import { useCanvasLabels } from "../i18n/canvas";
import { isStepNode, type GraphNode } from "./graph";
import { NoteCard } from "./NoteCard";
import { DRAG_MIME } from "./Palette";
import { StepCard } from "./StepCard";
import { useEditor } from "./store";

const NODE_TYPES: NodeTypes = { step: StepCard, note: NoteCard };

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return Boolean(element && (element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName)));
}

export function Canvas({ readOnly }: { readOnly: boolean }) {
  const nodes = useEditor((state) => state.nodes);
  const edges = useEditor((state) => state.edges);
  const takenEdgeIds = useEditor((state) => state.takenEdgeIds);
  const store = useEditor.getState;
  const onNodesChange = useEditor((state) => state.onNodesChange);
  const onEdgesChange = useEditor((state) => state.onEdgesChange);
  const connect = useEditor((state) => state.connect);
  const viewport = useEditor((state) => state.viewport);
  const flow = useReactFlow();
  const ariaLabelConfig = useCanvasLabels();
  // Fit once, when opening a flow that has steps and no saved viewport. (React Flow would
  // otherwise fit on the first node dropped on an empty canvas, jumping the view.)
  const [fitOnOpen] = useState(() => !viewport && useEditor.getState().nodes.length > 0);

  // Edges taken by the test run are drawn animated and coloured; the graph itself is untouched.
  const shownEdges: Edge[] = useMemo(() => {
    if (takenEdgeIds.length === 0) return edges;
    const taken = new Set(takenEdgeIds);
    return edges.map((edge) => (taken.has(edge.id) ? { ...edge, animated: true, className: "edge-taken" } : edge));
  }, [edges, takenEdgeIds]);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const nodeType = event.dataTransfer.getData(DRAG_MIME);
      if (!nodeType || readOnly) return;
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      store().addStep(nodeType, { x: position.x - 110, y: position.y - 30 });
    },
    [flow, readOnly, store],
  );

  const onKeyDown = (event: KeyboardEvent) => {
    if (isTyping(event.target)) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (!readOnly && (event.key === "Delete" || event.key === "Backspace")) {
      event.preventDefault();
      store().deleteSelected();
    } else if (mod && key === "c") {
      store().copySelected();
    } else if (!readOnly && mod && key === "v") {
      store().paste();
    } else if (!readOnly && mod && key === "z" && !event.shiftKey) {
      event.preventDefault();
      store().undo();
    } else if (!readOnly && mod && (key === "y" || (key === "z" && event.shiftKey))) {
      event.preventDefault();
      store().redo();
    } else if (mod && key === "a") {
      event.preventDefault();
      onNodesChange(store().nodes.map((node) => ({ type: "select", id: node.id, selected: true })));
    }
  };

  return (
    <div className="canvas" data-testid="canvas" tabIndex={0} onKeyDown={onKeyDown} onDragOver={(event) => event.preventDefault()} onDrop={onDrop}>
      <ReactFlow<GraphNode, Edge>
        nodes={nodes}
        edges={shownEdges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={(connection) => {
          connect(connection);
        }}
        isValidConnection={(connection) => connection.source !== connection.target}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        // Deleting goes through the store (one undo step for nodes + their edges).
        deleteKeyCode={null}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        selectionKeyCode="Shift"
        defaultViewport={viewport}
        fitView={fitOnOpen}
        fitViewOptions={{ maxZoom: 1 }}
        onMoveEnd={(_, next) => store().setViewport(next)}
        minZoom={0.1}
        maxZoom={2}
        onlyRenderVisibleElements
        proOptions={{ hideAttribution: true }}
        ariaLabelConfig={ariaLabelConfig}
      >
        <Background gap={16} />
        <Controls />
        <MiniMap pannable zoomable nodeColor={(node) => (isStepNode(node as GraphNode) ? "#5b7cfa" : "#f5d76e")} />
      </ReactFlow>
    </div>
  );
}
