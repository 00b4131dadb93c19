// What each step shows on the canvas under its title: a one-glance summary of its config. Types
// without their own body list the config paths their backend module names in `summary`, with
// the served enum labels — so a new node type gets a useful card without frontend code.
import type { Config, NodeTypeSpec, OperatorSpec } from "../api/types";
import { useT } from "../i18n";
import { isDuration } from "../forms/DurationInput";
import { placeholders, useTemplates } from "../forms/templates";
import { enumLabel, fieldFacts } from "./facts";

export interface BodyProps {
  config: Config;
  spec?: NodeTypeSpec;
}

export function truncate(text: string, length = 80): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

export function useDurationText() {
  const { t } = useT();
  return (value: unknown) =>
    isDuration(value) ? `${value.value} ${Math.abs(value.value) === 1 ? t(`unitOne.${value.unit}`) : t(`unit.${value.unit}`)}` : "";
}

function valueAt(config: Config, path: string): unknown {
  return path.split(".").reduce<unknown>((current, part) => (current && typeof current === "object" ? (current as Config)[part] : undefined), config);
}

/** One summary line per `spec.summary` path that has a value. */
export function GenericBody({ config, spec }: BodyProps) {
  const { label } = useT();
  const durationText = useDurationText();
  const lines: string[] = [];
  for (const path of spec?.summary ?? []) {
    const value = valueAt(config, path);
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    const facts = fieldFacts(spec, path);
    const enumText = enumLabel(facts, value);
    let text: string;
    if (enumText) text = label(enumText);
    else if (isDuration(value)) text = durationText(value);
    else if (Array.isArray(value)) text = value.map((item) => (typeof item === "object" ? Object.values(item as object).filter((v) => typeof v === "string")[0] ?? "" : String(item))).join(", ");
    else if (typeof value === "object") continue;
    else text = String(value);
    lines.push(truncate(text, 60));
    if (lines.length === 3) break;
  }
  if (lines.length === 0) return null;
  return (
    <>
      {lines.map((line, index) => (
        <p key={index} className={index === 0 ? undefined : "muted small"}>
          {line}
        </p>
      ))}
    </>
  );
}

export function TriggerBody({ config, spec }: BodyProps) {
  const { label } = useT();
  const event = String(config.event ?? "message");
  const eventText = label(enumLabel(fieldFacts(spec, "event"), event), event);
  const detail =
    event === "external"
      ? String(config.event_name ?? "")
      : event === "schedule"
        ? String((config.schedule as Config | undefined)?.time ?? "")
        : config.match === "keyword"
          ? ((config.keywords as string[]) ?? []).join(", ")
          : config.match === "regex"
            ? String(config.pattern ?? "")
            : "";
  const fields = Array.isArray(config.fields) ? (config.fields as { name?: string }[]).map((field) => field.name).filter(Boolean) : [];
  return (
    <>
      <p>
        {eventText}
        {detail && <code> {truncate(detail, 40)}</code>}
      </p>
      {fields.length > 0 && <p className="muted small">{truncate(fields.join(", "), 60)}</p>}
    </>
  );
}

function ruleText(rule: Config, operators: OperatorSpec[], label: (l: OperatorSpec["label"]) => string): string {
  const op = operators.find((candidate) => candidate.key === rule.op);
  const left = String(rule.left ?? "").replace(/^\{\{\s*|\s*\}\}$/g, "");
  const right = Array.isArray(rule.right) ? rule.right.join(", ") : rule.right == null ? "" : String(rule.right);
  return [op?.needs_left === false ? "" : left, op ? label(op.label) : String(rule.op ?? ""), op?.needs_right === false ? "" : right]
    .filter(Boolean)
    .join(" ");
}

/** Each path's rules in words ("call_result é igual a no_answer"), next to its port below. */
export function BranchBody({ config, spec }: BodyProps) {
  const { t, label } = useT();
  const operators = spec?.operators ?? [];
  const conditions = (Array.isArray(config.conditions) ? config.conditions : []) as Config[];
  if (config.mode === "random") {
    return <p>{label(enumLabel(fieldFacts(spec, "mode"), "random"), "random")}: {conditions.map((c) => `${String(c.label ?? c.id)} ${Number(c.weight ?? 0)}`).join(" · ")}</p>;
  }
  if (conditions.length === 0) return <p className="muted small">{t("branch.summaryEmpty")}</p>;
  return (
    <ul className="rule-summary">
      {conditions.slice(0, 4).map((condition) => {
        const rules = (Array.isArray(condition.rules) ? condition.rules : []) as Config[];
        const joiner = condition.match === "any" ? t("branch.summaryOr") : t("branch.summaryAnd");
        const text = rules.length
          ? rules.map((rule) => (Array.isArray(rule.rules) ? `(${(rule.rules as Config[]).map((r) => ruleText(r, operators, label)).join(rule.match === "any" ? t("branch.summaryOr") : t("branch.summaryAnd"))})` : ruleText(rule, operators, label))).join(joiner)
          : t("branch.summaryEmpty");
        return (
          <li key={String(condition.id)} title={text}>
            <strong>{String(condition.label || condition.id)}:</strong> {truncate(text, 56)}
          </li>
        );
      })}
      {conditions.length > 4 && <li className="muted">{t("card.more", { n: conditions.length - 4 })}</li>}
    </ul>
  );
}

/** The template's own text with each {{n}} shown as the value mapped to it. */
export function SendTemplateBody({ config }: BodyProps) {
  const { t } = useT();
  const { templates } = useTemplates();
  const name = String(config.template ?? "");
  if (!name) return <p><em>{t("template.none")}</em></p>;
  const template = templates.find((tpl) => tpl.name === name && tpl.language === config.language) ?? templates.find((tpl) => tpl.name === name);
  const values = (((config.parameters ?? {}) as { body?: unknown[] }).body ?? []).map((item) =>
    typeof item === "string" ? item : String((item as { value?: string })?.value ?? ""),
  );
  const keys = template ? placeholders(template.body_text) : [];
  const preview = template
    ? template.body_text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_whole, key: string) => {
        const value = values[keys.indexOf(key)];
        return value ? value : "⟨…⟩";
      })
    : values.join(" · ");
  return (
    <>
      <p className="template-name">
        <code>{name}</code>
      </p>
      {preview && <p className="message-preview">{truncate(preview, 90)}</p>}
    </>
  );
}

export function SendMessageBody({ config }: BodyProps) {
  const text = String(config.text ?? "");
  const buttons = Array.isArray(config.buttons) ? (config.buttons as { title?: string }[]) : [];
  return (
    <>
      <p className="message-preview">{truncate(text) || "—"}</p>
      {buttons.length > 0 && <p className="chips">{buttons.map((button) => `[${button.title ?? ""}]`).join(" ")}</p>}
    </>
  );
}
