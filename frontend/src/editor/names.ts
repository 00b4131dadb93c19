// How people see a block: its own name, else its type's label.
import type { Labels, NodeTypeSpec } from "../api/types";
import { pickLabel } from "../i18n";
import type { Language } from "../api/types";
import { isStepNode, type GraphNode } from "./graph";

export function blockName(node: GraphNode | undefined, specs: Record<string, NodeTypeSpec>, language: Language, fallback = ""): string {
  if (!node || !isStepNode(node)) return fallback;
  return node.data.name || pickLabel(language, specs[node.data.nodeType]?.label as Labels | undefined, node.data.nodeType);
}
