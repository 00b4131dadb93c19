// Segments: saved filters over contacts. The builder shows the live count and a sample as the
// conditions change (POST /api/segments/count/, debounced).
import { useEffect, useState } from "react";
import { campaignsApi, type Condition, type CountResult, type Segment, type SegmentDefinition } from "../../api/campaigns";
import { useT, type MessageKey } from "../../i18n";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, can, errorText, useLoad } from "../ui";

const OPERATORS: Record<string, string[]> = {
  tag: ["has", "not_has"],
  attribute: ["eq", "neq", "contains", "exists", "not_exists", "gt", "gte", "lt", "lte"],
  consent: ["is", "is_not"],
  last_inbound: ["within_days", "not_within_days", "before", "after", "never"],
  team: ["in"],
  import: ["in"],
};
const NO_VALUE = new Set(["exists", "not_exists", "never"]);

function blank(field: string): Condition {
  const base: Condition = { field, op: OPERATORS[field][0], value: "" };
  if (field === "attribute") base.key = "";
  if (field === "consent") return { ...base, category: "marketing", value: "opted_in" };
  return base;
}

/** What the API takes: numbers where the operator compares numbers, id lists for team/import. */
function cleaned(definition: SegmentDefinition): SegmentDefinition {
  return {
    match: definition.match,
    conditions: definition.conditions.map((condition) => {
      const value = condition.value as string;
      if (NO_VALUE.has(condition.op)) return { ...condition, value: undefined };
      if (condition.field === "team" || condition.field === "import")
        return { ...condition, value: String(value).split(/[ ,]+/).filter(Boolean).map(Number) };
      if (condition.op === "within_days" || condition.op === "not_within_days") return { ...condition, value: Number(value) };
      if (["gt", "gte", "lt", "lte"].includes(condition.op) && value !== "" && !Number.isNaN(Number(value)))
        return { ...condition, value: Number(value) };
      return condition;
    }),
  };
}

export function SegmentBuilder({ segment, onSaved, editable }: { segment: Segment | null; onSaved: (saved: Segment) => void; editable: boolean }) {
  const { t } = useT();
  const [name, setName] = useState(segment?.name ?? "");
  const [definition, setDefinition] = useState<SegmentDefinition>(segment?.definition ?? { match: "all", conditions: [] });
  const [count, setCount] = useState<CountResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    const timer = window.setTimeout(async () => {
      try {
        setCount(await campaignsApi.count(cleaned(definition)));
        setError(null);
      } catch (failure) {
        setError(errorText(failure));
      }
    }, 300);
    return () => window.clearTimeout(timer);
  }, [definition]);

  const change = (index: number, patch: Partial<Condition>) =>
    setDefinition({ ...definition, conditions: definition.conditions.map((c, i) => (i === index ? ({ ...c, ...patch } as Condition) : c)) });

  const save = async () => {
    setSaving(true);
    try {
      onSaved(await campaignsApi.saveSegment({ name, definition: cleaned(definition) }, segment?.id));
      setError(null);
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section className="card" data-testid="segment-builder">
      <div className="form-grid">
        <label>
          {t("seg.name")}
          <input value={name} onChange={(event) => setName(event.target.value)} data-testid="segment-name" disabled={!editable} />
        </label>
        <label>
          {t("seg.match")}
          <select value={definition.match} onChange={(event) => setDefinition({ ...definition, match: event.target.value as "all" | "any" })}>
            <option value="all">{t("seg.match.all")}</option>
            <option value="any">{t("seg.match.any")}</option>
          </select>
        </label>
      </div>
      {definition.conditions.map((condition, index) => (
        <div className="filters" key={index} data-testid="segment-condition">
          <select value={condition.field} onChange={(event) => change(index, blank(event.target.value))} aria-label="field" data-testid="condition-field">
            {Object.keys(OPERATORS).map((field) => (
              <option key={field} value={field}>
                {t(`seg.field.${field}` as MessageKey)}
              </option>
            ))}
          </select>
          {condition.field === "attribute" && (
            <input placeholder={t("seg.key")} value={String(condition.key ?? "")} onChange={(event) => change(index, { key: event.target.value })} data-testid="condition-key" />
          )}
          {condition.field === "consent" && (
            <select value={String(condition.category)} onChange={(event) => change(index, { category: event.target.value })} aria-label={t("seg.category")}>
              {["marketing", "utility", "authentication"].map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          )}
          <select value={condition.op} onChange={(event) => change(index, { op: event.target.value })} aria-label="op" data-testid="condition-op">
            {OPERATORS[condition.field].map((op) => (
              <option key={op} value={op}>
                {t(`seg.op.${op}` as MessageKey)}
              </option>
            ))}
          </select>
          {condition.field === "consent" ? (
            <select value={String(condition.value)} onChange={(event) => change(index, { value: event.target.value })} aria-label={t("seg.value")}>
              {["opted_in", "opted_out", "unknown"].map((value) => (
                <option key={value} value={value}>
                  {t(`seg.consent.${value}` as MessageKey)}
                </option>
              ))}
            </select>
          ) : (
            !NO_VALUE.has(condition.op) && (
              <input placeholder={t("seg.value")} value={String(condition.value ?? "")} onChange={(event) => change(index, { value: event.target.value })} data-testid="condition-value" />
            )
          )}
          <button type="button" onClick={() => setDefinition({ ...definition, conditions: definition.conditions.filter((_, i) => i !== index) })}>
            {t("common.remove")}
          </button>
        </div>
      ))}
      <p>
        <button type="button" onClick={() => setDefinition({ ...definition, conditions: [...definition.conditions, blank("tag")] })} data-testid="add-condition">
          + {t("seg.addCondition")}
        </button>
      </p>
      <ErrorNote error={error} />
      <p className="notice" data-testid="segment-count">
        {count ? t("seg.count", { count: count.count }) : t("common.loading")}
      </p>
      {count && count.sample.length > 0 && (
        <p className="muted small">
          {t("seg.sample")}: {count.sample.slice(0, 5).map((c) => c.name || c.phone).join(", ")}
        </p>
      )}
      {editable && (
        <button type="button" className="primary" onClick={save} disabled={saving || !name.trim()} data-testid="segment-save">
          {t("ws.save")}
        </button>
      )}
    </section>
  );
}

export function SegmentsPage({ user }: PageProps) {
  const { t } = useT();
  const { data: segments, error, reload } = useLoad(() => campaignsApi.segments());
  const [editing, setEditing] = useState<Segment | null | "new">(null);
  const editable = can(user.roles, "editor");
  return (
    <div className="page" data-testid="segments-page">
      <PageHeader title={t("nav.segments")} subtitle={t("seg.subtitle")}>
        {editable && (
          <button type="button" className="primary" onClick={() => setEditing("new")} data-testid="segment-new">
            + {t("seg.new")}
          </button>
        )}
      </PageHeader>
      <ErrorNote error={error} />
      {editing !== null && (
        <SegmentBuilder
          key={editing === "new" ? "new" : editing.id}
          segment={editing === "new" ? null : editing}
          editable={editable}
          onSaved={async () => {
            setEditing(null);
            await reload();
          }}
        />
      )}
      {segments && segments.length === 0 && <div className="empty-state">{t("seg.empty")}</div>}
      <ul className="plain-list">
        {(segments ?? []).map((segment) => (
          <li key={segment.id} data-testid="segment-row">
            <button type="button" className="link" onClick={() => setEditing(segment)}>
              {segment.name}
            </button>{" "}
            <span className="muted small">{segment.definition.conditions?.length ?? 0} ·</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
