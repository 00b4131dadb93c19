// Which output ports a node has. Static for most types; for types with `dynamic_ports` (branch)
// one port per item of a config array plus a default port.
import type { Config, Labels, NodeTypeSpec, PortSpec } from "../api/types";

const DEFAULT_PORT_LABEL: Labels = { "pt-BR": "Outro", en: "Other" };

export function portsFor(spec: NodeTypeSpec | undefined, config: Config): PortSpec[] {
  if (!spec) return [];
  const dynamic = spec.dynamic_ports;
  if (!dynamic) return spec.ports;
  const items = Array.isArray(config[dynamic.from]) ? (config[dynamic.from] as Record<string, unknown>[]) : [];
  const ports: PortSpec[] = [];
  for (const item of items) {
    const key = item?.[dynamic.key];
    if (typeof key !== "string" || !key) continue;
    const text = typeof item[dynamic.label] === "string" && item[dynamic.label] ? String(item[dynamic.label]) : key;
    ports.push({ key, label: { "pt-BR": text, en: text } });
  }
  const defaultLabel = typeof config.default_label === "string" && config.default_label ? config.default_label : "";
  ports.push({
    key: dynamic.default,
    label: defaultLabel ? { "pt-BR": defaultLabel, en: defaultLabel } : DEFAULT_PORT_LABEL,
  });
  return ports;
}
