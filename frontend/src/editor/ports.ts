// Which output ports a node has: static for most types; for types with a served `dynamic_ports`
// rule (branch), the same rule the backend applies (flows.nodes.base.ports_from_rule): one port
// per item of a config array, then the default port. No labels or keys live here: they are data.
import type { Config, NodeTypeSpec, PortSpec } from "../api/types";

export function portsFor(spec: NodeTypeSpec | undefined, config: Config): PortSpec[] {
  if (!spec) return [];
  const rule = spec.dynamic_ports;
  if (!rule) return spec.ports;
  const items = Array.isArray(config[rule.from]) ? (config[rule.from] as unknown[]) : [];
  const ports: PortSpec[] = [];
  const seen = new Set<string>();
  for (const raw of items) {
    if (!raw || typeof raw !== "object") continue;
    const item = raw as Record<string, unknown>;
    const key = item[rule.key];
    if (typeof key !== "string" || !key || seen.has(key)) continue;
    seen.add(key);
    const text = typeof item[rule.label] === "string" && item[rule.label] ? String(item[rule.label]) : key;
    ports.push({ key, label: { "pt-BR": text, en: text } });
  }
  const custom = rule.default_label_from ? config[rule.default_label_from] : undefined;
  ports.push({
    key: rule.default,
    label: typeof custom === "string" && custom ? { "pt-BR": custom, en: custom } : { ...rule.default_label },
  });
  return ports;
}
