// The flow canvas. Reads its graph from the nearest editor store (see context.tsx), so the same
// component shows the editor, the history preview and — read-only — a run on the canvas.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Edge,
  type FinalConnectionState,
  type NodeTypes,
} from "@xyflow/react";
import { useCallback, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { useCanvasLabels } from "../i18n/canvas";
import { useT } from "../i18n";
import { useEditorState, useEditorStoreApi } from "./context";
import { isStepNode, type GraphNode } from "./graph";
import { NoteCard } from "./NoteCard";
import { DRAG_MIME } from "./Palette";
import { QuickAdd } from "./QuickAdd";
import { ReadOnlyContext, StepCard } from "./StepCard";

const NODE_TYPES: NodeTypes = { step: StepCard, note: NoteCard };
// Props given to React Flow keep their identity across renders: a new object or function would be
// copied into React Flow's store on every keystroke and re-run all of its selectors.
const FIT_OPTIONS = { maxZoom: 1 };
const PRO_OPTIONS = { hideAttribution: true };
const MULTI_SELECT_KEYS = ["Shift", "Meta", "Control"];
const notSelf = (connection: { source: string | null; target: string | null }) => connection.source !== connection.target;
const miniMapColor = (node: { type?: string }) => (node.type === "step" ? "#5b7cfa" : "#f5d76e");

/**
 * What React Flow is given: the nodes without their config. Typing in a block changes only its
 * config, which its card reads from the editor store; React Flow's own store — and the hundreds
 * of edge, handle and minimap selectors it runs on every change — sees nothing. A node's view
 * changes with its position, size, selection, type and ports (the handles React Flow measures).
 */
function useViewNodes(nodes: GraphNode[]): GraphNode[] {
  const previous = useRef<{ nodes: GraphNode[]; views: Map<string, GraphNode> } | null>(null);
  const specs = useEditorState((state) => state.nodeTypes);
  return useMemo(() => {
    const before = previous.current;
    const views = new Map<string, GraphNode>();
    let changed = !before || before.nodes.length !== nodes.length;
    const result = nodes.map((node, index) => {
      let key = "";
      if (isStepNode(node)) {
        const rule = specs[node.data.nodeType]?.dynamic_ports;
        key = rule ? JSON.stringify([node.data.config[rule.from], rule.default_label_from ? node.data.config[rule.default_label_from] : ""]) : "";
      }
      const old = before?.views.get(node.id);
      const same =
        old &&
        old.position === node.position &&
        old.selected === node.selected &&
        old.dragging === node.dragging &&
        old.measured === node.measured &&
        old.width === node.width &&
        old.height === node.height &&
        old.type === node.type &&
        (old.data as { key?: string; nodeType?: string }).key === key &&
        (!isStepNode(node) || (old.data as { nodeType?: string }).nodeType === node.data.nodeType) &&
        (isStepNode(node) || old.data === node.data);
      const view = same ? old! : ({ ...node, data: isStepNode(node) ? { nodeType: node.data.nodeType, key } : node.data } as GraphNode);
      if (!same || before?.nodes[index]?.id !== node.id) changed = true;
      views.set(node.id, view);
      return view;
    });
    if (!changed && before) {
      previous.current = { nodes: before.nodes, views: before.views };
      return before.nodes;
    }
    previous.current = { nodes: result, views };
    return result;
  }, [nodes, specs]);
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return Boolean(element && (element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName)));
}

function EmptyCanvas({ onAddTrigger, readOnly }: { onAddTrigger: () => void; readOnly: boolean }) {
  const { t } = useT();
  return (
    <div className="canvas-empty" data-testid="canvas-empty">
      <h3>{t("canvas.emptyTitle")}</h3>
      <p>{t("canvas.emptyBody")}</p>
      {!readOnly && (
        <button type="button" className="primary" data-testid="empty-add-trigger" onClick={onAddTrigger}>
          ⚡ {t("canvas.addTrigger")}
        </button>
      )}
    </div>
  );
}

export function Canvas({ readOnly, fitOnOpen: fitRequested }: { readOnly: boolean; fitOnOpen?: boolean }) {
  const store = useEditorStoreApi();
  const nodes = useEditorState((state) => state.nodes);
  const edges = useEditorState((state) => state.edges);
  const takenEdgeIds = useEditorState((state) => state.takenEdgeIds);
  const onNodesChange = useEditorState((state) => state.onNodesChange);
  const onEdgesChange = useEditorState((state) => state.onEdgesChange);
  const connect = useEditorState((state) => state.connect);
  const viewport = useEditorState((state) => state.viewport);
  const quickAdd = useEditorState((state) => state.quickAdd);
  const hasSteps = useEditorState((state) => state.nodes.some(isStepNode));
  const flow = useReactFlow();
  const ariaLabelConfig = useCanvasLabels();
  const viewNodes = useViewNodes(nodes);
  // Fit once, when opening a flow that has steps and no saved viewport. (React Flow would
  // otherwise fit on the first node dropped on an empty canvas, jumping the view.)
  const [fitOnOpen] = useState(() => fitRequested ?? (!viewport && store.getState().nodes.length > 0));

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
      store.getState().addStep(nodeType, { x: position.x - 110, y: position.y - 30 });
    },
    [flow, readOnly, store],
  );

  // A connection dragged into empty canvas opens the palette there; the block arrives connected.
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (readOnly || state.isValid || !state.fromNode || state.fromHandle?.type !== "source") return;
      const point = "changedTouches" in event ? event.changedTouches[0] : event;
      const at = flow.screenToFlowPosition({ x: point.clientX, y: point.clientY });
      store.getState().openQuickAdd({
        source: state.fromNode.id,
        port: state.fromHandle.id ?? "next",
        screen: { x: point.clientX, y: point.clientY },
        at: { x: at.x, y: at.y - 30 },
      });
    },
    [flow, readOnly, store],
  );

  const onConnect = useCallback((connection: Parameters<typeof connect>[0]) => void connect(connection), [connect]);
  const onMoveEnd = useCallback(
    (_event: unknown, next: { x: number; y: number; zoom: number }) => store.getState().setViewport(next),
    [store],
  );

  const addTrigger = () => {
    const bounds = document.querySelector(".canvas")?.getBoundingClientRect();
    const center = bounds ? flow.screenToFlowPosition({ x: bounds.left + bounds.width / 3, y: bounds.top + bounds.height / 3 }) : { x: 80, y: 120 };
    store.getState().addStep("trigger", center);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (isTyping(event.target)) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    const state = store.getState();
    if (!readOnly && (event.key === "Delete" || event.key === "Backspace")) {
      event.preventDefault();
      state.deleteSelected();
    } else if (mod && key === "c") {
      state.copySelected();
    } else if (!readOnly && mod && key === "v") {
      state.paste();
    } else if (!readOnly && mod && key === "z" && !event.shiftKey) {
      event.preventDefault();
      state.undo();
    } else if (!readOnly && mod && (key === "y" || (key === "z" && event.shiftKey))) {
      event.preventDefault();
      state.redo();
    } else if (mod && key === "a") {
      event.preventDefault();
      onNodesChange(state.nodes.map((node) => ({ type: "select", id: node.id, selected: true })));
    }
  };

  return (
    <ReadOnlyContext.Provider value={readOnly}>
    <div
      className={`canvas${readOnly ? " read-only" : ""}`}
      data-testid="canvas"
      tabIndex={0}
      onKeyDown={onKeyDown}
      onDragOver={(event) => event.preventDefault()}
      onDrop={onDrop}
    >
      <ReactFlow<GraphNode, Edge>
        nodes={viewNodes}
        edges={shownEdges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={notSelf}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        elementsSelectable
        // Deleting goes through the store (one undo step for nodes + their edges).
        deleteKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        selectionKeyCode="Shift"
        defaultViewport={viewport}
        fitView={fitOnOpen}
        fitViewOptions={FIT_OPTIONS}
        onMoveEnd={onMoveEnd}
        minZoom={0.1}
        maxZoom={2}
        onlyRenderVisibleElements
        proOptions={PRO_OPTIONS}
        ariaLabelConfig={ariaLabelConfig}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
        {hasSteps && (
          <MiniMap
            pannable
            zoomable
            bgColor="#f4f6fb"
            maskColor="rgba(91, 124, 250, 0.08)"
            nodeColor={miniMapColor}
          />
        )}
      </ReactFlow>
      {!hasSteps && <EmptyCanvas onAddTrigger={addTrigger} readOnly={readOnly} />}
      {quickAdd && !readOnly && <QuickAdd request={quickAdd} />}
    </div>
    </ReadOnlyContext.Provider>
  );
}
