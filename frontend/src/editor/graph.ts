// The editor's graph model and the pure conversions between it and the stored flow definition.
// React Flow node/edge objects are the graph model; layout (positions, notes, viewport) goes to
// `definition.ui`, which the engine ignores.
import type { Edge, Node } from "@xyflow/react";
import type { Config, FlowDefinition, Note, Position } from "../api/types";

export const SPEC_VERSION = 1;

export type StepNodeData = { nodeType: string; config: Config; name?: string };
export type NoteNodeData = { text: string };
export type StepNode = Node<StepNodeData, "step">;
export type NoteNode = Node<NoteNodeData, "note">;
export type GraphNode = StepNode | NoteNode;
export type GraphEdge = Edge;

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  viewport?: { x: number; y: number; zoom: number };
}

export const NOTE_DEFAULT_SIZE = { w: 200, h: 120 };

export function isStepNode(node: GraphNode): node is StepNode {
  return node.type === "step";
}

export function isNoteNode(node: GraphNode): node is NoteNode {
  return node.type === "note";
}

export function edgeId(source: string, port: string, target: string): string {
  return `e_${source}_${port}_${target}`;
}

/** Where a node without a stored position goes: a simple left-to-right row, so nothing overlaps. */
function fallbackPosition(index: number): Position {
  return { x: 80 + (index % 6) * 280, y: 80 + Math.floor(index / 6) * 180 };
}

export function definitionToGraph(definition: FlowDefinition): Graph {
  const positions = definition.ui?.nodes ?? {};
  const stepNodes: StepNode[] = definition.nodes.map((node, index) => ({
    id: node.id,
    type: "step",
    position: { ...(positions[node.id]?.position ?? fallbackPosition(index)) },
    data: { nodeType: node.type, config: structuredClone(node.config ?? {}), ...(node.name ? { name: node.name } : {}) },
  }));
  const noteNodes: NoteNode[] = (definition.ui?.notes ?? []).map((note) => ({
    id: note.id,
    type: "note",
    position: { ...note.position },
    width: note.size?.w ?? NOTE_DEFAULT_SIZE.w,
    height: note.size?.h ?? NOTE_DEFAULT_SIZE.h,
    data: { text: note.text },
    // Notes sit behind the steps so they never hide a port.
    zIndex: -1,
  }));
  const edges: GraphEdge[] = definition.edges.map((edge) => ({
    id: edge.id,
    source: edge.source,
    sourceHandle: edge.source_port,
    target: edge.target,
  }));
  return { nodes: [...noteNodes, ...stepNodes], edges, viewport: definition.ui?.viewport };
}

function roundPosition(position: Position): Position {
  return { x: Math.round(position.x), y: Math.round(position.y) };
}

export function graphToDefinition(graph: Graph): FlowDefinition {
  const steps = graph.nodes.filter(isStepNode);
  const notes: Note[] = graph.nodes.filter(isNoteNode).map((node) => {
    const w = node.width ?? node.measured?.width;
    const h = node.height ?? node.measured?.height;
    const note: Note = { id: node.id, text: node.data.text, position: roundPosition(node.position) };
    if (w && h) note.size = { w: Math.round(w), h: Math.round(h) };
    return note;
  });
  const ui: NonNullable<FlowDefinition["ui"]> = {
    nodes: Object.fromEntries(steps.map((node) => [node.id, { position: roundPosition(node.position) }])),
    notes,
  };
  if (graph.viewport) ui.viewport = graph.viewport;
  const stepIds = new Set(steps.map((node) => node.id));
  return {
    spec_version: SPEC_VERSION,
    nodes: steps.map((node) => ({
      id: node.id,
      type: node.data.nodeType,
      ...(node.data.name ? { name: node.data.name } : {}),
      config: structuredClone(node.data.config),
    })),
    edges: graph.edges
      // An edge to or from a note (or a dangling one) is never part of the flow.
      .filter((edge) => stepIds.has(edge.source) && stepIds.has(edge.target))
      .map((edge) => ({
        id: edge.id,
        source: edge.source,
        source_port: edge.sourceHandle ?? "next",
        target: edge.target,
      })),
    ui,
  };
}

export function emptyDefinition(): FlowDefinition {
  return { spec_version: SPEC_VERSION, nodes: [], edges: [], ui: { nodes: {}, notes: [] } };
}

/** Readable ids: the type and the first free number ("send_template_2"), unique within the flow. */
export function newId(prefix: string, taken: Set<string> = new Set()): string {
  for (let n = 1; ; n += 1) {
    const id = `${prefix}_${n}`;
    if (!taken.has(id)) return id;
  }
}
