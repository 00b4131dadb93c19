// Auto-layout with ELK's layered algorithm (elkjs): left to right, and — unlike dagre — it knows
// ports: each output leaves from its own port in the order the card lists them, so a branch's
// paths come out top to bottom as drawn, and a block hanging off a path stays beside it.
// elkjs is 1.6 MB, so it is loaded on the first "Organizar" only.
import type { NodeTypeSpec } from "../api/types";
import { isStepNode, type GraphEdge, type GraphNode } from "./graph";
import { portsFor } from "./ports";

const STEP_WIDTH = 240;
const STEP_HEIGHT = 110;

interface ElkNode {
  id: string;
  width?: number;
  height?: number;
  x?: number;
  y?: number;
  ports?: { id: string; layoutOptions?: Record<string, string> }[];
  layoutOptions?: Record<string, string>;
  children?: ElkNode[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
}

let elkPromise: Promise<{ layout: (graph: ElkNode) => Promise<ElkNode> }> | null = null;

function elk() {
  elkPromise ??= import("elkjs/lib/elk.bundled.js").then((module) => {
    const ELK = (module as unknown as { default: new () => { layout: (graph: ElkNode) => Promise<ElkNode> } }).default;
    return new ELK();
  });
  return elkPromise;
}

export async function autoLayout(nodes: GraphNode[], edges: GraphEdge[], specs: Record<string, NodeTypeSpec>): Promise<GraphNode[]> {
  const steps = nodes.filter(isStepNode);
  const ids = new Set(steps.map((node) => node.id));
  const graph: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "90",
      "elk.spacing.nodeNode": "40",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.separateConnectedComponents": "true",
      "elk.spacing.componentComponent": "60",
      "elk.padding": "[top=40,left=40,bottom=40,right=40]",
    },
    children: steps.map((node) => ({
      id: node.id,
      width: node.measured?.width ?? STEP_WIDTH,
      height: node.measured?.height ?? STEP_HEIGHT,
      layoutOptions: { "elk.portConstraints": "FIXED_ORDER" },
      ports: [
        { id: `${node.id}::in`, layoutOptions: { "elk.port.side": "WEST" } },
        ...portsFor(specs[node.data.nodeType], node.data.config).map((port, index) => ({
          id: `${node.id}::${port.key}`,
          layoutOptions: { "elk.port.side": "EAST", "elk.port.index": String(index) },
        })),
      ],
    })),
    edges: edges
      .filter((edge) => ids.has(edge.source) && ids.has(edge.target))
      .map((edge) => ({
        id: edge.id,
        sources: [`${edge.source}::${edge.sourceHandle ?? "next"}`],
        targets: [`${edge.target}::in`],
      })),
  };
  const placed = await (await elk()).layout(graph);
  const at = new Map((placed.children ?? []).map((child) => [child.id, child]));
  return nodes.map((node) => {
    const spot = at.get(node.id);
    if (!isStepNode(node) || !spot || spot.x === undefined || spot.y === undefined) return node;
    return { ...node, position: { x: Math.round(spot.x), y: Math.round(spot.y) } };
  });
}
