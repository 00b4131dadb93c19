// A form generated from a node type's JSON Schema and the facts the API serves for its fields
// (titles, help, enum labels, placeholders, widgets, conditional visibility): the whole form of
// every node type without a purpose-built one, and the building block those forms reuse.
import { useEffect, useState } from "react";
import type { Config, JsonSchema, NodeTypeSpec, ValidationError } from "../api/types";
import { ws, type MediaFile } from "../api/workspace";
import { useT } from "../i18n";
import { enumLabel, fieldFacts, isVisible } from "../nodes/facts";
import { DurationInput, isDuration, type Duration } from "./DurationInput";
import { ExpressionInput } from "./ExpressionInput";
import { FieldErrors } from "./FieldErrors";
import type { NodeFormProps } from "./types";

function types(schema: JsonSchema): string[] {
  return Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
}

export function isDurationSchema(schema: JsonSchema | undefined): boolean {
  return Boolean(schema?.properties?.value && schema.properties.unit);
}

interface FieldProps {
  spec: NodeTypeSpec;
  name: string;
  path: string;
  schema: JsonSchema;
  value: unknown;
  required: boolean;
  scope: string[];
  errors: ValidationError[];
  onChange: (value: unknown) => void;
}

/** A file of the media library (GET /api/media/), by name and type. */
function MediaSelect({ testId, title, value, onChange }: { testId: string; title: string; value: number | undefined; onChange: (value: unknown) => void }) {
  const { t } = useT();
  const [files, setFiles] = useState<MediaFile[] | null>(null);
  useEffect(() => {
    let live = true;
    ws.media().then((list) => live && setFiles(list)).catch(() => live && setFiles([]));
    return () => {
      live = false;
    };
  }, []);
  return (
    <select data-testid={testId} aria-label={title} value={value ?? ""} onChange={(event) => onChange(event.target.value ? Number(event.target.value) : undefined)}>
      <option value="">{files === null ? t("common.loading") : "—"}</option>
      {value !== undefined && files !== null && !files.some((file) => file.id === value) && <option value={value}>#{value}</option>}
      {(files ?? []).map((file) => (
        <option key={file.id} value={file.id}>
          {file.name} ({t(`ws.mediaKind.${file.kind}`)})
        </option>
      ))}
    </select>
  );
}

export function SchemaField({ spec, name, path, schema, value, required, scope, errors, onChange }: FieldProps) {
  const { label } = useT();
  const facts = fieldFacts(spec, path);
  const title = label(facts?.title, name);
  const testId = `field-${path}`;
  const placeholder = facts?.placeholder;
  const body = (() => {
    if (schema.enum) {
      // A value left unset behaves as the schema's default (nodes saved before the field existed): show it.
      const shown = value ?? schema.default;
      return (
        <select data-testid={testId} aria-label={title} value={shown == null ? "" : String(shown)} onChange={(event) => onChange(event.target.value || undefined)}>
          {(!required || shown == null) && schema.default === undefined && <option value="">—</option>}
          {schema.enum
            .filter((option) => option !== null)
            .map((option) => (
              <option key={String(option)} value={String(option)}>
                {label(enumLabel(facts, option), String(option))}
              </option>
            ))}
        </select>
      );
    }
    if (schema.anyOf) {
      const duration = schema.anyOf.find(isDurationSchema);
      if (duration) {
        const nullable = schema.anyOf.some((option) => types(option).includes("null"));
        return <DurationInput testId={testId} value={value as Duration | null} nullable={nullable} onChange={onChange} />;
      }
      const first = schema.anyOf.find((option) => !types(option).includes("null")) ?? {};
      return <SchemaField {...{ spec, name, path, schema: first, value, required, scope, errors, onChange }} />;
    }
    if (isDurationSchema(schema)) {
      return <DurationInput testId={testId} value={isDuration(value) ? value : null} nullable={!required} onChange={(next) => onChange(next ?? undefined)} />;
    }
    const kind = types(schema)[0] ?? (schema.properties ? "object" : "string");
    if (kind === "string" && (facts?.widget === "time" || facts?.widget === "plain")) {
      return (
        <input
          type={facts.widget === "time" ? "time" : "text"}
          data-testid={testId}
          aria-label={title}
          placeholder={placeholder}
          maxLength={schema.maxLength}
          value={typeof value === "string" ? value : ""}
          onChange={(event) => onChange(event.target.value === "" && !required ? undefined : event.target.value)}
        />
      );
    }
    if (kind === "string") {
      return (
        <ExpressionInput
          value={typeof value === "string" ? value : ""}
          onChange={(next) => onChange(next === "" && !required ? undefined : next)}
          scope={scope}
          multiline={facts?.widget === "multiline" || (schema.maxLength ?? 0) > 300}
          placeholder={placeholder}
          ariaLabel={title}
          testId={testId}
        />
      );
    }
    if (kind === "integer" && facts?.widget === "media") {
      return <MediaSelect testId={testId} title={title} value={typeof value === "number" ? value : undefined} onChange={onChange} />;
    }
    if (kind === "number" || kind === "integer") {
      return (
        <input
          type="number"
          data-testid={testId}
          aria-label={title}
          placeholder={placeholder}
          value={typeof value === "number" ? value : ""}
          min={schema.minimum}
          max={schema.maximum}
          step={kind === "integer" ? 1 : "any"}
          onChange={(event) => onChange(event.target.value === "" ? undefined : Number(event.target.value))}
        />
      );
    }
    if (kind === "boolean") {
      return <input type="checkbox" data-testid={testId} aria-label={title} checked={value === true} onChange={(event) => onChange(event.target.checked)} />;
    }
    if (kind === "array") return <ArrayField {...{ spec, name, path, schema, value, scope, errors, onChange }} />;
    if (kind === "object" && schema.properties) {
      return (
        <fieldset className="nested">
          <ObjectFields
            spec={spec}
            schema={schema}
            value={(value as Config) ?? {}}
            path={path}
            scope={scope}
            errors={errors}
            onChange={(next) => onChange(Object.keys(next).length ? next : undefined)}
          />
        </fieldset>
      );
    }
    return <JsonField value={value} onChange={onChange} label={title} />;
  })();
  const isCheckbox = types(schema)[0] === "boolean";
  return (
    <div className={`field${isCheckbox ? " checkbox" : ""}`}>
      <span className="field-label">
        {title}
        {required && " *"}
      </span>
      {body}
      {facts?.help && <small className="hint">{label(facts.help)}</small>}
      {/* Containers show only their own errors: their items and properties show theirs. */}
      <FieldErrors errors={errors} field={path} exact={Boolean(schema.properties) || types(schema).includes("array")} />
    </div>
  );
}

function JsonField({ value, onChange, label }: { value: unknown; onChange: (value: unknown) => void; label: string }) {
  return (
    <textarea
      aria-label={label}
      rows={3}
      defaultValue={value === undefined ? "" : JSON.stringify(value, null, 2)}
      onBlur={(event) => {
        try {
          onChange(event.target.value.trim() ? JSON.parse(event.target.value) : undefined);
        } catch {
          /* keep the old value until the JSON parses */
        }
      }}
    />
  );
}

function ArrayField({ spec, name, path, schema, value, scope, errors, onChange }: Omit<FieldProps, "required">) {
  const { t, label } = useT();
  const items = Array.isArray(value) ? value : [];
  const itemSchema = schema.items ?? { type: "string" };
  const itemFacts = fieldFacts(spec, path);
  if (itemSchema.enum) {
    // A set of choices (weekdays): checkboxes.
    return (
      <div className="choices">
        {itemSchema.enum.map((option) => (
          <label key={String(option)}>
            <input
              type="checkbox"
              checked={items.includes(option)}
              onChange={(event) =>
                onChange(event.target.checked ? [...items, option] : items.filter((item) => item !== option))
              }
            />
            {label(enumLabel(itemFacts, option), String(option))}
          </label>
        ))}
      </div>
    );
  }
  if (types(itemSchema).includes("string") && !itemSchema.properties) {
    // A list of words: one per line is the least fiddly way to type many.
    return (
      <textarea
        rows={3}
        data-testid={`field-${path}`}
        placeholder={t("form.onePerLine")}
        value={items.map(String).join("\n")}
        onChange={(event) => {
          const lines = event.target.value.split("\n");
          onChange(lines.length === 1 && lines[0] === "" ? [] : lines);
        }}
        onBlur={() => onChange(items.map((item) => String(item).trim()).filter(Boolean))}
      />
    );
  }
  const replace = (index: number, item: unknown) => onChange(items.map((old, i) => (i === index ? item : old)));
  return (
    <div className="array-field" data-testid={`field-${path}`}>
      {items.map((item, index) => (
        <fieldset className="array-item" key={index}>
          <legend>
            #{index + 1}
            <button type="button" className="link" onClick={() => onChange(items.filter((_, i) => i !== index))}>
              {t("common.remove")}
            </button>
          </legend>
          {itemSchema.properties ? (
            <ObjectFields
              spec={spec}
              schema={itemSchema}
              value={(item as Config) ?? {}}
              path={`${path}.${index}`}
              scope={scope}
              errors={errors}
              onChange={(next) => replace(index, next)}
            />
          ) : (
            <SchemaField spec={spec} name={name} path={`${path}.${index}`} schema={itemSchema} value={item} required scope={scope} errors={errors} onChange={(next) => replace(index, next)} />
          )}
        </fieldset>
      ))}
      {(schema.maxItems === undefined || items.length < schema.maxItems) && (
        <button type="button" className="link" data-testid={`add-${path}`} onClick={() => onChange([...items, itemSchema.properties ? {} : ""])}>
          + {t("common.add")}
        </button>
      )}
    </div>
  );
}

function withDefaults(schema: JsonSchema, value: Config): Config {
  const defaults: Config = {};
  for (const [name, sub] of Object.entries(schema.properties ?? {})) if (sub.default !== undefined) defaults[name] = sub.default;
  return { ...defaults, ...value };
}

export function ObjectFields({
  spec,
  schema,
  value,
  path,
  scope,
  errors,
  onChange,
  only,
}: {
  spec: NodeTypeSpec;
  schema: JsonSchema;
  value: Config;
  path: string;
  scope: string[];
  errors: ValidationError[];
  onChange: (value: Config) => void;
  only?: string[];
}) {
  const required = new Set(schema.required ?? []);
  const siblings = withDefaults(schema, value);
  const names = Object.keys(schema.properties ?? {}).filter((name) => {
    if (only && !only.includes(name)) return false;
    return isVisible(fieldFacts(spec, path ? `${path}.${name}` : name), siblings);
  });
  return (
    <>
      {names.map((name) => (
        <SchemaField
          key={name}
          spec={spec}
          name={name}
          path={path ? `${path}.${name}` : name}
          schema={schema.properties![name]}
          value={value[name]}
          required={required.has(name)}
          scope={scope}
          errors={errors}
          onChange={(next) => {
            const updated = { ...value };
            if (next === undefined) delete updated[name];
            else updated[name] = next;
            onChange(updated);
          }}
        />
      ))}
    </>
  );
}

/** The generic form: every property of the config schema that applies, in schema order. */
export function SchemaForm({ config, spec, scope, errors, onChange }: NodeFormProps) {
  return (
    <div className="schema-form">
      <ObjectFields spec={spec} schema={spec.config_schema} value={config} path="" scope={scope} errors={errors} onChange={onChange} />
    </div>
  );
}
