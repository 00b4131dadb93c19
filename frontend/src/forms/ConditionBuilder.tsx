// Condition builder for the branch node: ordered conditions, each a list of rules {left, op, right}
// joined by AND ("all") or OR ("any"); a rule may itself be a group with its own AND/OR.
import type { Config, NodeTypeSpec, OperatorSpec } from "../api/types";
import { useT } from "../i18n";
import { enumLabel, fieldFacts } from "../nodes/facts";
import { ExpressionInput } from "./ExpressionInput";
import { FieldErrors } from "./FieldErrors";
import type { NodeFormProps } from "./types";

export type Operator = string;
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
  spec,
  rule,
  path,
  scope,
  errors,
  onChange,
  onRemove,
}: {
  spec: NodeTypeSpec;
  rule: Rule;
  path: string;
  scope: string[];
  errors: NodeFormProps["errors"];
  onChange: (rule: Rule) => void;
  onRemove: () => void;
}) {
  const { t, label } = useT();
  const operators: OperatorSpec[] = spec.operators ?? [];
  const op = operators.find((candidate) => candidate.key === rule.op);
  const needsLeft = op?.needs_left ?? true;
  const needsRight = op?.needs_right ?? true;
  const leftFacts = fieldFacts(spec, "conditions.*.rules.*.left");
  const right = Array.isArray(rule.right) ? rule.right.join(", ") : rule.right == null ? "" : String(rule.right);
  return (
    <div className={`rule${needsLeft ? "" : " no-left"}`} data-testid="rule">
      {needsLeft && (
        <ExpressionInput
          value={rule.left ?? ""}
          onChange={(left) => onChange({ ...rule, left })}
          scope={scope}
          placeholder={leftFacts?.placeholder}
          ariaLabel={label(leftFacts?.title)}
          testId="rule-left"
        />
      )}
      <div className="rule-line">
        <select
          aria-label={label(fieldFacts(spec, "conditions.*.rules.*.op")?.title)}
          data-testid="rule-op"
          value={rule.op}
          onChange={(event) => {
            const next: Rule = { ...rule, op: event.target.value };
            const chosen = operators.find((candidate) => candidate.key === next.op);
            if (chosen && !chosen.needs_right) delete next.right;
            if (chosen && !chosen.needs_left) delete next.left;
            onChange(next);
          }}
        >
          {operators.map((candidate) => (
            <option key={candidate.key} value={candidate.key}>
              {label(candidate.label, candidate.key)}
            </option>
          ))}
        </select>
        {needsRight && (
          <ExpressionInput
            value={right}
            onChange={(value) => onChange({ ...rule, right: value })}
            scope={scope}
            ariaLabel={label(fieldFacts(spec, "conditions.*.rules.*.right")?.title)}
            testId="rule-right"
          />
        )}
        <button type="button" className="icon-button" title={t("common.remove")} aria-label={t("branch.removeRule")} onClick={onRemove}>
          ×
        </button>
      </div>
      <FieldErrors errors={errors} field={path} />
    </div>
  );
}

function MatchSelect({ spec, value, onChange }: { spec: NodeTypeSpec; value: "all" | "any"; onChange: (value: "all" | "any") => void }) {
  const { label } = useT();
  const facts = fieldFacts(spec, "conditions.*.match");
  return (
    <select aria-label={label(facts?.title)} value={value} onChange={(event) => onChange(event.target.value as "all" | "any")}>
      <option value="all">{label(enumLabel(facts, "all"), "all")}</option>
      <option value="any">{label(enumLabel(facts, "any"), "any")}</option>
    </select>
  );
}

function RuleList({
  spec,
  rules,
  path,
  scope,
  errors,
  onChange,
  allowGroups,
}: {
  spec: NodeTypeSpec;
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
              <MatchSelect spec={spec} value={rule.match} onChange={(match) => replace(index, { ...rule, match })} />
              <button type="button" className="link" onClick={() => remove(index)}>
                {t("branch.removeGroup")}
              </button>
            </legend>
            <RuleList
              spec={spec}
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
            spec={spec}
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

export function ConditionBuilder({ config, spec, onChange, scope, errors }: NodeFormProps) {
  const { t, label } = useT();
  const modeFacts = fieldFacts(spec, "mode");
  const defaultFacts = fieldFacts(spec, "default_label");
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
        <span>{label(modeFacts?.title)}</span>
        <select data-testid="branch-mode" value={random ? "random" : "conditions"} onChange={(event) => onChange({ ...config, mode: event.target.value })}>
          <option value="conditions">{label(enumLabel(modeFacts, "conditions"), "conditions")}</option>
          <option value="random">{label(enumLabel(modeFacts, "random"), "random")}</option>
        </select>
      </label>
      <FieldErrors errors={errors} field="conditions" exact />
      <ol className="conditions">
        {conditions.map((condition, index) => (
          <li key={condition.id} className="condition" data-testid="condition">
            <div className="condition-head">
              <input
                aria-label={label(fieldFacts(spec, "conditions.*.label")?.title)}
                data-testid="condition-label"
                value={condition.label}
                onChange={(event) => update(index, { label: event.target.value })}
              />
              {random ? (
                <input
                  type="number"
                  min={0}
                  aria-label={label(fieldFacts(spec, "conditions.*.weight")?.title)}
                  value={condition.weight ?? 0}
                  onChange={(event) => update(index, { weight: Number(event.target.value) })}
                />
              ) : (
                <MatchSelect spec={spec} value={condition.match ?? "all"} onChange={(match) => update(index, { match })} />
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
                spec={spec}
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
        <span>{label(defaultFacts?.title)}</span>
        <input
          value={String(config.default_label ?? "")}
          placeholder={defaultFacts?.placeholder}
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
