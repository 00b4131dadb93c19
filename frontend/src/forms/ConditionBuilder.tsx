// Condition builder for the branch node: ordered conditions, each a list of rules {left, op, right}
// joined by AND ("all") or OR ("any"); a rule may itself be a group with its own AND/OR.
import type { Config } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { ExpressionInput } from "./ExpressionInput";
import { FieldErrors } from "./FieldErrors";
import type { NodeFormProps } from "./types";

export const OPERATORS = [
  "equals",
  "not_equals",
  "contains",
  "not_contains",
  "starts_with",
  "regex",
  "gt",
  "gte",
  "lt",
  "lte",
  "empty",
  "not_empty",
  "in_list",
  "not_in_list",
  "has_tag",
  "business_hours",
  "outside_business_hours",
] as const;
export type Operator = (typeof OPERATORS)[number];
const UNARY = new Set<string>(["empty", "not_empty", "business_hours", "outside_business_hours"]);
const NO_LEFT = new Set<string>(["has_tag", "business_hours", "outside_business_hours"]);

export interface Rule {
  left?: string;
  op: Operator;
  right?: string | number | string[] | null;
  case_sensitive?: boolean;
}
export interface RuleGroup {
  match: "all" | "any";
  rules: Rule[];
}
export interface Condition {
  id: string;
  label: string;
  match?: "all" | "any";
  rules?: (Rule | RuleGroup)[];
  weight?: number;
}

const isGroup = (rule: Rule | RuleGroup): rule is RuleGroup => Array.isArray((rule as RuleGroup).rules);

export function newConditionId(conditions: Condition[]): string {
  const taken = new Set(conditions.map((condition) => condition.id));
  for (let n = conditions.length + 1; ; n += 1) if (!taken.has(`c${n}`)) return `c${n}`;
}

export function blankRule(): Rule {
  return { left: "", op: "equals", right: "" };
}

function RuleRow({
  rule,
  path,
  scope,
  errors,
  onChange,
  onRemove,
}: {
  rule: Rule;
  path: string;
  scope: string[];
  errors: NodeFormProps["errors"];
  onChange: (rule: Rule) => void;
  onRemove: () => void;
}) {
  const { t } = useT();
  const right = Array.isArray(rule.right) ? rule.right.join(", ") : rule.right == null ? "" : String(rule.right);
  return (
    <div className="rule" data-testid="rule">
      {!NO_LEFT.has(rule.op) && (
        <ExpressionInput
          value={rule.left ?? ""}
          onChange={(left) => onChange({ ...rule, left })}
          scope={scope}
          placeholder="{{trigger.text}}"
          ariaLabel={t("branch.left")}
          testId="rule-left"
        />
      )}
      <select
        aria-label={t("branch.operator")}
        data-testid="rule-op"
        value={rule.op}
        onChange={(event) => {
          const op = event.target.value as Operator;
          const next: Rule = { ...rule, op };
          if (UNARY.has(op)) delete next.right;
          if (NO_LEFT.has(op)) delete next.left;
          onChange(next);
        }}
      >
        {OPERATORS.map((op) => (
          <option key={op} value={op}>
            {t(`op.${op}` as MessageKey)}
          </option>
        ))}
      </select>
      {!UNARY.has(rule.op) && (
        <ExpressionInput
          value={right}
          onChange={(value) => onChange({ ...rule, right: value })}
          scope={scope}
          ariaLabel={t("branch.right")}
          testId="rule-right"
        />
      )}
      <button type="button" className="icon-button" title={t("common.remove")} aria-label={t("branch.removeRule")} onClick={onRemove}>
        ×
      </button>
      <FieldErrors errors={errors} field={path} />
    </div>
  );
}

function MatchSelect({ value, onChange }: { value: "all" | "any"; onChange: (value: "all" | "any") => void }) {
  const { t } = useT();
  return (
    <select aria-label={t("branch.match")} value={value} onChange={(event) => onChange(event.target.value as "all" | "any")}>
      <option value="all">{t("branch.matchAll")}</option>
      <option value="any">{t("branch.matchAny")}</option>
    </select>
  );
}

function RuleList({
  rules,
  path,
  scope,
  errors,
  onChange,
  allowGroups,
}: {
  rules: (Rule | RuleGroup)[];
  path: string;
  scope: string[];
  errors: NodeFormProps["errors"];
  onChange: (rules: (Rule | RuleGroup)[]) => void;
  allowGroups: boolean;
}) {
  const { t } = useT();
  const replace = (index: number, rule: Rule | RuleGroup) => onChange(rules.map((r, i) => (i === index ? rule : r)));
  const remove = (index: number) => onChange(rules.filter((_, i) => i !== index));
  return (
    <div className="rules">
      {rules.map((rule, index) =>
        isGroup(rule) ? (
          <fieldset className="rule-group" key={index}>
            <legend>
              <MatchSelect value={rule.match} onChange={(match) => replace(index, { ...rule, match })} />
              <button type="button" className="link" onClick={() => remove(index)}>
                {t("branch.removeGroup")}
              </button>
            </legend>
            <RuleList
              rules={rule.rules}
              path={`${path}.${index}.rules`}
              scope={scope}
              errors={errors}
              allowGroups={false}
              onChange={(inner) => replace(index, { ...rule, rules: inner as Rule[] })}
            />
          </fieldset>
        ) : (
          <RuleRow
            key={index}
            rule={rule}
            path={`${path}.${index}`}
            scope={scope}
            errors={errors}
            onChange={(next) => replace(index, next)}
            onRemove={() => remove(index)}
          />
        ),
      )}
      <div className="row-actions">
        <button type="button" className="link" data-testid="add-rule" onClick={() => onChange([...rules, blankRule()])}>
          + {t("branch.addRule")}
        </button>
        {allowGroups && (
          <button
            type="button"
            className="link"
            onClick={() => onChange([...rules, { match: "any", rules: [blankRule(), blankRule()] }])}
          >
            + {t("branch.addGroup")}
          </button>
        )}
      </div>
    </div>
  );
}

export function ConditionBuilder({ config, onChange, scope, errors }: NodeFormProps) {
  const { t } = useT();
  const conditions = (Array.isArray(config.conditions) ? config.conditions : []) as Condition[];
  const random = config.mode === "random";
  const setConditions = (next: Condition[]) => onChange({ ...config, conditions: next } as Config);
  const update = (index: number, changes: Partial<Condition>) =>
    setConditions(conditions.map((condition, i) => (i === index ? { ...condition, ...changes } : condition)));
  const move = (index: number, delta: number) => {
    const next = [...conditions];
    const [item] = next.splice(index, 1);
    next.splice(index + delta, 0, item);
    setConditions(next);
  };

  const addCondition = () => {
    const id = newConditionId(conditions);
    const condition: Condition = random
      ? { id, label: t("branch.pathN", { n: conditions.length + 1 }), weight: 50 }
      : { id, label: t("branch.pathN", { n: conditions.length + 1 }), match: "all", rules: [blankRule()] };
    setConditions([...conditions, condition]);
  };

  return (
    <div className="condition-builder">
      <label className="field">
        <span>{t("branch.mode")}</span>
        <select value={random ? "random" : "conditions"} onChange={(event) => onChange({ ...config, mode: event.target.value })}>
          <option value="conditions">{t("branch.modeConditions")}</option>
          <option value="random">{t("branch.modeRandom")}</option>
        </select>
      </label>
      <FieldErrors errors={errors} field="conditions" exact />
      <ol className="conditions">
        {conditions.map((condition, index) => (
          <li key={condition.id} className="condition" data-testid="condition">
            <div className="condition-head">
              <input
                aria-label={t("branch.conditionLabel")}
                data-testid="condition-label"
                value={condition.label}
                onChange={(event) => update(index, { label: event.target.value })}
              />
              {random ? (
                <input
                  type="number"
                  min={0}
                  aria-label={t("branch.weight")}
                  value={condition.weight ?? 0}
                  onChange={(event) => update(index, { weight: Number(event.target.value) })}
                />
              ) : (
                <MatchSelect value={condition.match ?? "all"} onChange={(match) => update(index, { match })} />
              )}
              <button type="button" className="icon-button" disabled={index === 0} aria-label={t("common.moveUp")} onClick={() => move(index, -1)}>
                ↑
              </button>
              <button
                type="button"
                className="icon-button"
                disabled={index === conditions.length - 1}
                aria-label={t("common.moveDown")}
                onClick={() => move(index, 1)}
              >
                ↓
              </button>
              <button
                type="button"
                className="icon-button"
                aria-label={t("branch.removeCondition")}
                onClick={() => setConditions(conditions.filter((_, i) => i !== index))}
              >
                ×
              </button>
            </div>
            {!random && (
              <RuleList
                rules={condition.rules ?? []}
                path={`conditions.${condition.id}.rules`}
                scope={scope}
                errors={errors}
                allowGroups
                onChange={(rules) => update(index, { rules })}
              />
            )}
            <FieldErrors errors={errors} field={`conditions.${condition.id}.rules`} exact />
          </li>
        ))}
      </ol>
      <button type="button" data-testid="add-condition" onClick={addCondition}>
        + {t("branch.addCondition")}
      </button>
      <label className="field">
        <span>{t("branch.defaultLabel")}</span>
        <input
          value={String(config.default_label ?? "")}
          placeholder={t("branch.defaultPlaceholder")}
          onChange={(event) => {
            const next: Config = { ...config, default_label: event.target.value };
            if (!event.target.value) delete next.default_label;
            onChange(next);
          }}
        />
      </label>
    </div>
  );
}
