// The editor's state: the graph being edited, undo/redo history, clipboard, and the overlays
// that do not belong to the graph (validation problems, test-run highlight).
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from "@xyflow/react";
import { create } from "zustand";
import type { Config, FlowDefinition, NodeTypeSpec, Position, ValidationError, VariableInfo } from "../api/types";
import {
  definitionToGraph,
  edgeId,
  graphToDefinition,
  isStepNode,
  newId,
  NOTE_DEFAULT_SIZE,
  type GraphEdge,
  type GraphNode,
  type NoteNode,
  type StepNode,
} from "./graph";
import { autoLayout } from "./layout";
import { portsFor } from "./ports";

interface Snapshot {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const HISTORY_LIMIT = 100;
const PASTE_OFFSET = 40;
const CONFIG_EDIT_MERGE_MS = 1000;
export const STEP_WIDTH = 240;
const GAP_X = 90;
const GAP_Y = 40;

/** Where "+" on a port (or a connection dropped on empty canvas) asks for the next block. */
export interface QuickAddRequest {
  source: string | null;
  port: string | null;
  /** Screen point the palette opens at. */
  screen: Position;
  /** Where the block goes; null: beside its source, clear of other blocks. */
  at: Position | null;
}

export interface EditorState {
  nodeTypes: Record<string, NodeTypeSpec>;
  nodes: GraphNode[];
  edges: GraphEdge[];
  viewport?: { x: number; y: number; zoom: number };
  past: Snapshot[];
  future: Snapshot[];
  clipboard: Snapshot | null;
  /** Bumped on every change that alters the definition; autosave and validation watch it. */
  version: number;
  /** The snapshot taken when a drag started, pushed to `past` once the drag ends. */
  dragStart: Snapshot | null;
  /** The last config edit, to merge a burst of keystrokes into one undo step. */
  lastConfigEdit: { nodeId: string; at: number } | null;
  /** Errors and warnings (ValidationError.severity), from the validator and the policy check. */
  problems: ValidationError[];
  scope: Record<string, string[]>;
  variables: Record<string, VariableInfo>;
  quickAdd: QuickAddRequest | null;
  /** History preview: how each node differs from the compared revision. */
  diffMarks: Record<string, "added" | "changed">;
  activeNodeId: string | null;
  takenEdgeIds: string[];
  visitedNodeIds: string[];

  setNodeTypes: (specs: NodeTypeSpec[]) => void;
  load: (definition: FlowDefinition) => void;
  toDefinition: () => FlowDefinition;
  onNodesChange: (changes: NodeChange<GraphNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<GraphEdge>[]) => void;
  connect: (connection: Connection) => boolean;
  addStep: (nodeType: string, position: Position, config?: Config) => string;
  /** Adds a block after `source`'s `port`, connected and placed (or at `at`); returns its id. */
  addConnected: (source: string, port: string, nodeType: string, at?: Position | null) => string;
  setName: (nodeId: string, name: string) => void;
  /** Replaces the whole graph (a restore), as one undoable step. */
  replaceDefinition: (definition: FlowDefinition) => void;
  openQuickAdd: (request: QuickAddRequest | null) => void;
  setDiffMarks: (marks: Record<string, "added" | "changed">) => void;
  addNote: (position: Position, text?: string) => string;
  updateConfig: (nodeId: string, config: Config) => void;
  updateNote: (nodeId: string, text: string) => void;
  deleteSelected: () => void;
  copySelected: () => void;
  paste: () => void;
  undo: () => void;
  redo: () => void;
  selectOnly: (nodeId: string | null) => void;
  layout: () => Promise<void>;
  setViewport: (viewport: { x: number; y: number; zoom: number }) => void;
  setValidation: (problems: ValidationError[], scope: Record<string, string[]>, variables?: Record<string, VariableInfo>) => void;
  setRunTrace: (trace: { activeNodeId: string | null; takenEdgeIds: string[]; visitedNodeIds: string[] }) => void;
}

function snapshot(state: Pick<EditorState, "nodes" | "edges">): Snapshot {
  return { nodes: state.nodes, edges: state.edges };
}

function withHistory(state: EditorState, next: Partial<EditorState>): Partial<EditorState> {
  return {
    lastConfigEdit: null,
    ...next,
    past: [...state.past, snapshot(state)].slice(-HISTORY_LIMIT),
    future: [],
    version: state.version + 1,
  };
}

/** Drops the edges of one node whose source port no longer exists (its branch condition was
 * removed): O(edges), so typing in a big flow does not recompute every node's ports. */
function pruneEdgesOf(node: GraphNode | undefined, edges: GraphEdge[], specs: Record<string, NodeTypeSpec>): GraphEdge[] {
  if (!node || !isStepNode(node)) return edges;
  const spec = specs[node.data.nodeType];
  if (!spec) return edges;
  const ports = new Set(portsFor(spec, node.data.config).map((port) => port.key));
  const kept = edges.filter((edge) => edge.source !== node.id || ports.has(edge.sourceHandle ?? "next"));
  return kept.length === edges.length ? edges : kept;
}

/** Drops edges whose source port no longer exists (a branch condition was removed). */
function pruneEdges(nodes: GraphNode[], edges: GraphEdge[], specs: Record<string, NodeTypeSpec>): GraphEdge[] {
  const validPorts = new Map<string, Set<string>>();
  for (const node of nodes) {
    if (!isStepNode(node)) continue;
    const spec = specs[node.data.nodeType];
    // Unknown type (registry not loaded yet): keep its edges rather than lose work.
    validPorts.set(node.id, spec ? new Set(portsFor(spec, node.data.config).map((port) => port.key)) : new Set(["*"]));
  }
  return edges.filter((edge) => {
    const ports = validPorts.get(edge.source);
    if (!ports || !validPorts.has(edge.target)) return false;
    return ports.has("*") || ports.has(edge.sourceHandle ?? "next");
  });
}

export const createEditorStore = () =>
  create<EditorState>((set, get) => ({
    nodeTypes: {},
    nodes: [],
    edges: [],
    past: [],
    future: [],
    clipboard: null,
    version: 0,
    dragStart: null,
    lastConfigEdit: null,
    problems: [],
    scope: {},
    variables: {},
    quickAdd: null,
    diffMarks: {},
    activeNodeId: null,
    takenEdgeIds: [],
    visitedNodeIds: [],

    setNodeTypes: (specs) => set({ nodeTypes: Object.fromEntries(specs.map((spec) => [spec.key, spec])) }),

    load: (definition) => {
      const graph = definitionToGraph(definition);
      set({
        nodes: graph.nodes,
        edges: graph.edges,
        viewport: graph.viewport,
        past: [],
        future: [],
        dragStart: null,
        problems: [],
        activeNodeId: null,
        takenEdgeIds: [],
        visitedNodeIds: [],
        version: 0,
      });
    },

    toDefinition: () => {
      const { nodes, edges, viewport } = get();
      return graphToDefinition({ nodes, edges, viewport });
    },

    onNodesChange: (changes) => {
      const state = get();
      const meaningful = changes.filter((change) => change.type !== "select" && change.type !== "dimensions");
      const nodes = applyNodeChanges(changes, state.nodes);
      if (meaningful.length === 0) {
        // Selection and measuring do not change the flow: no history entry, no autosave.
        set({ nodes });
        return;
      }
      const dragging = meaningful.some((change) => change.type === "position" && change.dragging);
      if (dragging) {
        set({ nodes, dragStart: state.dragStart ?? snapshot(state) });
        return;
      }
      const before = state.dragStart ?? snapshot(state);
      const edges = meaningful.some((change) => change.type === "remove")
        ? pruneEdges(nodes, state.edges, state.nodeTypes)
        : state.edges;
      set({
        nodes,
        edges,
        dragStart: null,
        lastConfigEdit: null,
        past: [...state.past, before].slice(-HISTORY_LIMIT),
        future: [],
        version: state.version + 1,
      });
    },

    onEdgesChange: (changes) => {
      const state = get();
      const edges = applyEdgeChanges(changes, state.edges);
      if (changes.every((change) => change.type === "select")) {
        set({ edges });
        return;
      }
      set(withHistory(state, { edges }));
    },

    connect: (connection) => {
      const state = get();
      const { source, target } = connection;
      if (!source || !target || source === target) return false;
      const targetNode = state.nodes.find((node) => node.id === target);
      const sourceNode = state.nodes.find((node) => node.id === source);
      if (!targetNode || !sourceNode || !isStepNode(targetNode) || !isStepNode(sourceNode)) return false;
      if (state.nodeTypes[targetNode.data.nodeType]?.is_trigger) return false;
      const port = connection.sourceHandle ?? portsFor(state.nodeTypes[sourceNode.data.nodeType], sourceNode.data.config)[0]?.key ?? "next";
      // A port leads to exactly one next step: a new connection replaces the old one.
      const edges = state.edges.filter((edge) => !(edge.source === source && (edge.sourceHandle ?? "next") === port));
      edges.push({ id: edgeId(source, port, target), source, sourceHandle: port, target });
      set(withHistory(state, { edges }));
      return true;
    },

    addStep: (nodeType, position, config) => {
      const state = get();
      const taken = new Set(state.nodes.map((node) => node.id));
      const id = newId(nodeType, taken);
      const spec = state.nodeTypes[nodeType];
      const node: StepNode = {
        id,
        type: "step",
        position: { ...position },
        data: { nodeType, config: structuredClone(config ?? spec?.default_config ?? {}) },
        selected: true,
      };
      const nodes = state.nodes.map((other) => (other.selected ? { ...other, selected: false } : other));
      set(withHistory(state, { nodes: [...nodes, node] }));
      return id;
    },

    addConnected: (source, port, nodeType, at) => {
      const state = get();
      const from = state.nodes.find((node) => node.id === source);
      if (!from || !isStepNode(from)) return "";
      const ports = portsFor(state.nodeTypes[from.data.nodeType], from.data.config);
      const index = Math.max(0, ports.findIndex((candidate) => candidate.key === port));
      const width = from.measured?.width ?? STEP_WIDTH;
      let position = at ?? { x: from.position.x + width + GAP_X, y: from.position.y + index * (110 + GAP_Y) };
      if (!at) {
        // Slide down until the spot is clear of every other block.
        const clash = (y: number) =>
          state.nodes.some(
            (other) =>
              other.id !== source &&
              Math.abs(other.position.x - position.x) < STEP_WIDTH &&
              Math.abs(other.position.y - y) < (other.measured?.height ?? 100) + 10,
          );
        let y = position.y;
        for (let guard = 0; clash(y) && guard < 50; guard += 1) y += 60;
        position = { x: position.x, y };
      }
      const taken = new Set(state.nodes.map((node) => node.id));
      const id = newId(nodeType, taken);
      const spec = state.nodeTypes[nodeType];
      const node: StepNode = {
        id,
        type: "step",
        position,
        data: { nodeType, config: structuredClone(spec?.default_config ?? {}) },
        selected: true,
      };
      const nodes = state.nodes.map((other) => (other.selected ? { ...other, selected: false } : other));
      const edges = state.edges.filter((edge) => !(edge.source === source && (edge.sourceHandle ?? "next") === port));
      edges.push({ id: edgeId(source, port, id), source, sourceHandle: port, target: id });
      set({ ...withHistory(state, { nodes: [...nodes, node], edges }), quickAdd: null });
      return id;
    },

    setName: (nodeId, name) => {
      const state = get();
      const nodes = state.nodes.map((node) => {
        if (node.id !== nodeId || !isStepNode(node)) return node;
        const data = { ...node.data };
        if (name.trim()) data.name = name.slice(0, 80);
        else delete data.name;
        return { ...node, data };
      });
      set(withHistory(state, { nodes }));
    },

    replaceDefinition: (definition) => {
      const state = get();
      const graph = definitionToGraph(definition);
      set(withHistory(state, { nodes: graph.nodes, edges: graph.edges }));
    },

    openQuickAdd: (request) => set({ quickAdd: request }),

    setDiffMarks: (marks) => set({ diffMarks: marks }),

    addNote: (position, text = "") => {
      const state = get();
      const id = newId("note", new Set(state.nodes.map((node) => node.id)));
      const note: NoteNode = {
        id,
        type: "note",
        position: { ...position },
        width: NOTE_DEFAULT_SIZE.w,
        height: NOTE_DEFAULT_SIZE.h,
        data: { text },
        zIndex: -1,
      };
      set(withHistory(state, { nodes: [note, ...state.nodes] }));
      return id;
    },

    updateConfig: (nodeId, config) => {
      const state = get();
      const nodes = state.nodes.map((node) =>
        node.id === nodeId && isStepNode(node) ? { ...node, data: { ...node.data, config } } : node,
      );
      const edges = pruneEdgesOf(nodes.find((node) => node.id === nodeId), state.edges, state.nodeTypes);
      const now = Date.now();
      const last = state.lastConfigEdit;
      // Typing in a field is one undo step, not one per keystroke: quick successive edits of the
      // same step extend the previous history entry.
      if (last && last.nodeId === nodeId && now - last.at < CONFIG_EDIT_MERGE_MS && state.past.length > 0) {
        set({ nodes, edges, future: [], version: state.version + 1, lastConfigEdit: { nodeId, at: now } });
        return;
      }
      set({ ...withHistory(state, { nodes, edges }), lastConfigEdit: { nodeId, at: now } });
    },

    updateNote: (nodeId, text) => {
      const state = get();
      const nodes = state.nodes.map((node) =>
        node.id === nodeId && node.type === "note" ? { ...node, data: { text } } : node,
      );
      set(withHistory(state, { nodes }));
    },

    deleteSelected: () => {
      const state = get();
      const removed = new Set(state.nodes.filter((node) => node.selected).map((node) => node.id));
      const edgesSelected = state.edges.some((edge) => edge.selected);
      if (removed.size === 0 && !edgesSelected) return;
      const nodes = state.nodes.filter((node) => !removed.has(node.id));
      const edges = state.edges.filter((edge) => !edge.selected && !removed.has(edge.source) && !removed.has(edge.target));
      set(withHistory(state, { nodes, edges }));
    },

    copySelected: () => {
      const state = get();
      const nodes = state.nodes.filter((node) => node.selected);
      if (nodes.length === 0) return;
      const ids = new Set(nodes.map((node) => node.id));
      // Only the edges between copied nodes come along.
      const edges = state.edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target));
      set({ clipboard: structuredClone({ nodes, edges }) });
    },

    paste: () => {
      const state = get();
      if (!state.clipboard) return;
      const taken = new Set(state.nodes.map((node) => node.id));
      const renamed = new Map<string, string>();
      const pasted = state.clipboard.nodes.map((node) => {
        const prefix = isStepNode(node) ? node.data.nodeType : "note";
        const id = newId(prefix, taken);
        taken.add(id);
        renamed.set(node.id, id);
        return {
          ...structuredClone(node),
          id,
          selected: true,
          position: { x: node.position.x + PASTE_OFFSET, y: node.position.y + PASTE_OFFSET },
        } as GraphNode;
      });
      const pastedEdges = state.clipboard.edges.map((edge) => {
        const source = renamed.get(edge.source)!;
        const target = renamed.get(edge.target)!;
        const port = edge.sourceHandle ?? "next";
        return { id: edgeId(source, port, target), source, target, sourceHandle: port };
      });
      const nodes = state.nodes.map((node) => (node.selected ? { ...node, selected: false } : node));
      set({
        ...withHistory(state, { nodes: [...nodes, ...pasted], edges: [...state.edges, ...pastedEdges] }),
        // Pasting again offsets once more, so copies do not stack on top of each other.
        clipboard: { nodes: pasted, edges: pastedEdges },
      });
    },

    undo: () => {
      const state = get();
      const previous = state.past[state.past.length - 1];
      if (!previous) return;
      set({
        nodes: previous.nodes,
        edges: previous.edges,
        past: state.past.slice(0, -1),
        future: [snapshot(state), ...state.future],
        lastConfigEdit: null,
        version: state.version + 1,
      });
    },

    redo: () => {
      const state = get();
      const next = state.future[0];
      if (!next) return;
      set({
        nodes: next.nodes,
        edges: next.edges,
        past: [...state.past, snapshot(state)],
        future: state.future.slice(1),
        lastConfigEdit: null,
        version: state.version + 1,
      });
    },

    selectOnly: (nodeId) =>
      set((state) => ({
        nodes: state.nodes.map((node) =>
          node.id === nodeId ? { ...node, selected: true } : node.selected ? { ...node, selected: false } : node,
        ),
        edges: state.edges.map((edge) => (edge.selected ? { ...edge, selected: false } : edge)),
      })),

    layout: async () => {
      const before = get();
      const placed = await autoLayout(before.nodes, before.edges, before.nodeTypes);
      const state = get();
      if (state.nodes !== before.nodes) return; // edited meanwhile: do not move stale positions in
      set(withHistory(state, { nodes: placed }));
    },

    setViewport: (viewport) => set({ viewport }),

    setValidation: (problems, scope, variables) => set({ problems, scope, ...(variables ? { variables } : {}) }),

    setRunTrace: (trace) => set(trace),
  }));

export type EditorStore = ReturnType<typeof createEditorStore>;

// Per-node views of whole-graph arrays, computed once per array (not once per card per update):
// a 300-block canvas runs every card's selectors on every keystroke.
const portsUsedCache = new WeakMap<GraphEdge[], Map<string, string>>();
export function portsUsedBy(edges: GraphEdge[], nodeId: string): string {
  let map = portsUsedCache.get(edges);
  if (!map) {
    map = new Map();
    for (const edge of edges) map.set(edge.source, `${map.get(edge.source) ?? ""}|${edge.sourceHandle ?? "next"}`);
    portsUsedCache.set(edges, map);
  }
  return map.get(nodeId) ?? "";
}

const nodeIndexCache = new WeakMap<GraphNode[], Map<string, GraphNode>>();
/** A node by id, through an index built once per nodes array. */
export function nodeById(nodes: GraphNode[], nodeId: string): GraphNode | undefined {
  let index = nodeIndexCache.get(nodes);
  if (!index) {
    index = new Map(nodes.map((node) => [node.id, node]));
    nodeIndexCache.set(nodes, index);
  }
  return index.get(nodeId);
}

const NO_PROBLEMS: ValidationError[] = [];
const problemsCache = new WeakMap<ValidationError[], Map<string, ValidationError[]>>();
export function problemsOf(problems: ValidationError[], nodeId: string): ValidationError[] {
  let map = problemsCache.get(problems);
  if (!map) {
    map = new Map();
    for (const problem of problems) {
      if (!problem.node_id) continue;
      map.set(problem.node_id, [...(map.get(problem.node_id) ?? []), problem]);
    }
    problemsCache.set(problems, map);
  }
  return map.get(nodeId) ?? NO_PROBLEMS;
}

/** The one store the editor page uses; tests create their own with createEditorStore(). */
export const useEditor = createEditorStore();
