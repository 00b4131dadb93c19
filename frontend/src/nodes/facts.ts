// Reading the node facts the API serves (GET /api/node-types/ → fields): titles, help, enum
// labels and conditional fields, by config path. Array indices fold to "*" ("conditions.c1.rules.0"
// is found as "conditions.*.rules.*").
import type { Config, FieldFacts, Labels, NodeTypeSpec } from "../api/types";

export function factsPath(path: string): string {
  return path
    .split(".")
    .map((part) => (/^\d+$/.test(part) ? "*" : part))
    .join(".");
}

export function fieldFacts(spec: NodeTypeSpec | undefined, path: string): FieldFacts | undefined {
  if (!spec?.fields) return undefined;
  return spec.fields[path] ?? spec.fields[factsPath(path)];
}

/** Whether a field is shown for the current values of its siblings (`visible_when`). */
export function isVisible(facts: FieldFacts | undefined, siblings: Config): boolean {
  if (!facts) return true;
  if (facts.hidden) return false;
  const when = facts.visible_when;
  if (!when) return true;
  return Object.entries(when).every(([name, wanted]) => {
    const value = siblings[name] ?? undefined;
    const options = Array.isArray(wanted) ? wanted : [wanted];
    // A sibling left at its default counts as the default value ("match" absent = "any").
    return options.some((option) => option === value);
  });
}

export function enumLabel(facts: FieldFacts | undefined, value: unknown): Labels | undefined {
  return facts?.enum_labels?.[String(value)];
}
