// Three-way merge of flow definitions at block level, for a save conflict: `theirs` (what was
// saved meanwhile) is the starting point; the blocks and connections this tab added, changed or
// removed since `base` (what it last loaded or saved) are applied on top. A block both changed
// keeps this tab's version (the person merging is the one who just typed it) and is reported.
import type { DefinitionEdge, DefinitionNode, FlowDefinition } from "../api/types";

export interface MergeResult {
  definition: FlowDefinition;
  applied: number;
  overlaps: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const edgeKey = (edge: DefinitionEdge) => `${edge.source}\u0000${edge.source_port}\u0000${edge.target}`;

export function mergeDefinitions(base: FlowDefinition, mine: FlowDefinition, theirs: FlowDefinition): MergeResult {
  const baseNodes = new Map(base.nodes.map((node) => [node.id, node]));
  const theirNodes = new Map(theirs.nodes.map((node) => [node.id, node]));
  const result = new Map<string, DefinitionNode>(theirs.nodes.map((node) => [node.id, structuredClone(node)]));
  const renamed = new Map<string, string>();
  const positions = { ...(theirs.ui?.nodes ?? {}) };
  const myPositions = mine.ui?.nodes ?? {};
  let applied = 0;
  const overlaps: string[] = [];

  for (const node of mine.nodes) {
    const before = baseNodes.get(node.id);
    const theirsNow = theirNodes.get(node.id);
    if (!before) {
      // Added here. Both sides may have picked the same readable id: give mine a free one.
      let id = node.id;
      for (let n = 2; result.has(id); n += 1) id = `${node.id}_${n}`;
      if (id !== node.id) renamed.set(node.id, id);
      result.set(id, { ...structuredClone(node), id });
      if (myPositions[node.id]) positions[id] = myPositions[node.id];
      applied += 1;
    } else if (!same(before, node)) {
      if (theirsNow && !same(before, theirsNow)) overlaps.push(node.id);
      result.set(node.id, structuredClone(node));
      if (myPositions[node.id]) positions[node.id] = myPositions[node.id];
      applied += 1;
    }
  }
  const mineIds = new Set(mine.nodes.map((node) => node.id));
  for (const [id, before] of baseNodes) {
    if (mineIds.has(id)) continue;
    const theirsNow = theirNodes.get(id);
    // Removed here: gone, unless they changed it meanwhile (then their change stays).
    if (theirsNow && same(before, theirsNow)) {
      result.delete(id);
      delete positions[id];
      applied += 1;
    }
  }

  const rename = (id: string) => renamed.get(id) ?? id;
  const baseEdges = new Set(base.edges.map(edgeKey));
  const mineEdges = new Set(mine.edges.map(edgeKey));
  let edges = theirs.edges.filter((edge) => result.has(edge.source) && result.has(edge.target));
  // Connections I removed go; the ones I added come (one port leads to one block: mine wins).
  edges = edges.filter((edge) => !(baseEdges.has(edgeKey(edge)) && !mineEdges.has(edgeKey(edge))));
  for (const edge of mine.edges) {
    if (baseEdges.has(edgeKey(edge))) continue;
    const moved = { ...edge, source: rename(edge.source), target: rename(edge.target) };
    if (!result.has(moved.source) || !result.has(moved.target)) continue;
    edges = edges.filter((other) => !(other.source === moved.source && other.source_port === moved.source_port));
    edges.push({ ...moved, id: `e_${moved.source}_${moved.source_port}_${moved.target}` });
  }
  return {
    definition: {
      ...theirs,
      nodes: [...result.values()],
      edges,
      ui: { ...(theirs.ui ?? {}), nodes: positions, notes: mine.ui?.notes ?? theirs.ui?.notes ?? [] },
    },
    applied,
    overlaps,
  };
}
