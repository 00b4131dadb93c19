// Auto-layout with dagre: a layered left-to-right drawing, which is how people read flows.
// Notes keep their place; only steps move.
import dagre from "@dagrejs/dagre";
import { isStepNode, type GraphEdge, type GraphNode } from "./graph";

const STEP_WIDTH = 240;
const STEP_HEIGHT = 110;

export function autoLayout(nodes: GraphNode[], edges: GraphEdge[]): GraphNode[] {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 40, marginy: 40 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    if (!isStepNode(node)) continue;
    graph.setNode(node.id, {
      width: node.measured?.width ?? STEP_WIDTH,
      height: node.measured?.height ?? STEP_HEIGHT,
    });
  }
  for (const edge of edges) {
    if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target);
  }
  dagre.layout(graph);
  return nodes.map((node) => {
    if (!isStepNode(node)) return node;
    const placed = graph.node(node.id);
    if (!placed) return node;
    // dagre gives centres; React Flow positions are top-left corners.
    return { ...node, position: { x: Math.round(placed.x - placed.width / 2), y: Math.round(placed.y - placed.height / 2) } };
  });
}
