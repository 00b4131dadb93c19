// A form generated from a node type's JSON Schema: the fallback for node types without a
// purpose-built form, and the building block those forms reuse for their plain fields.
import type { Config, JsonSchema, ValidationError } from "../api/types";
import { useT } from "../i18n";
import { DurationInput, isDuration, type Duration } from "./DurationInput";
import { ExpressionInput } from "./ExpressionInput";
import { FieldErrors } from "./FieldErrors";
import type { NodeFormProps } from "./types";

const LONG_TEXT_FIELDS = new Set(["text", "body", "prompt", "instructions", "system_prompt", "message"]);

function types(schema: JsonSchema): string[] {
  return Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
}

export function isDurationSchema(schema: JsonSchema | undefined): boolean {
  return Boolean(schema?.properties?.value && schema.properties.unit);
}

function humanize(name: string): string {
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function useFieldLabel() {
  const { tOptional } = useT();
  return (name: string, schema?: JsonSchema) => tOptional(`field.${name}`) ?? schema?.title ?? humanize(name);
}

interface FieldProps {
  name: string;
  path: string;
  schema: JsonSchema;
  value: unknown;
  required: boolean;
  scope: string[];
  errors: ValidationError[];
  onChange: (value: unknown) => void;
}

export function SchemaField({ name, path, schema, value, required, scope, errors, onChange }: FieldProps) {
  const { tOptional, language } = useT();
  const fieldLabel = useFieldLabel();
  const label = fieldLabel(name, schema);
  const testId = `field-${path}`;
  const body = (() => {
    if (schema.enum) {
      return (
        <select data-testid={testId} aria-label={label} value={value == null ? "" : String(value)} onChange={(event) => onChange(event.target.value || undefined)}>
          {(!required || value == null) && <option value="">—</option>}
          {schema.enum.map((option) => (
            <option key={String(option)} value={String(option)}>
              {tOptional(`enum.${name}.${String(option)}`) ?? String(option)}
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
      return <SchemaField {...{ name, path, schema: first, value, required, scope, errors, onChange }} />;
    }
    if (isDurationSchema(schema)) {
      return <DurationInput testId={testId} value={isDuration(value) ? value : null} nullable={!required} onChange={(next) => onChange(next ?? undefined)} />;
    }
    const kind = types(schema)[0] ?? (schema.properties ? "object" : "string");
    if (kind === "string") {
      return (
        <ExpressionInput
          value={typeof value === "string" ? value : ""}
          onChange={(next) => onChange(next === "" && !required ? undefined : next)}
          scope={scope}
          multiline={LONG_TEXT_FIELDS.has(name) || (schema.maxLength ?? 0) > 300}
          ariaLabel={label}
          testId={testId}
        />
      );
    }
    if (kind === "number" || kind === "integer") {
      return (
        <input
          type="number"
          data-testid={testId}
          aria-label={label}
          value={typeof value === "number" ? value : ""}
          min={schema.minimum}
          max={schema.maximum}
          step={kind === "integer" ? 1 : "any"}
          onChange={(event) => onChange(event.target.value === "" ? undefined : Number(event.target.value))}
        />
      );
    }
    if (kind === "boolean") {
      return <input type="checkbox" data-testid={testId} aria-label={label} checked={value === true} onChange={(event) => onChange(event.target.checked)} />;
    }
    if (kind === "array") return <ArrayField {...{ name, path, schema, value, scope, errors, onChange }} />;
    if (kind === "object" && schema.properties) {
      return (
        <fieldset className="nested">
          <ObjectFields
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
    return <JsonField value={value} onChange={onChange} label={label} />;
  })();
  const isCheckbox = types(schema)[0] === "boolean";
  return (
    <div className={`field${isCheckbox ? " checkbox" : ""}`}>
      <span className="field-label">
        {label}
        {required && " *"}
        {schema.description && language !== "en" && (
          <span className="info" title={schema.description} aria-label={schema.description}>
            {" "}ⓘ
          </span>
        )}
      </span>
      {body}
      {/* Schema descriptions are written in English by the backend: inline in English, a tooltip otherwise. */}
      {schema.description && language === "en" && <small className="hint">{schema.description}</small>}
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

function ArrayField({ name, path, schema, value, scope, errors, onChange }: Omit<FieldProps, "required">) {
  const { t, tOptional } = useT();
  const items = Array.isArray(value) ? value : [];
  const itemSchema = schema.items ?? { type: "string" };
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
            {tOptional(`enum.${name}.${String(option)}`) ?? String(option)}
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
    <div className="array-field">
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
              schema={itemSchema}
              value={(item as Config) ?? {}}
              path={`${path}.${index}`}
              scope={scope}
              errors={errors}
              onChange={(next) => replace(index, next)}
            />
          ) : (
            <SchemaField name={name} path={`${path}.${index}`} schema={itemSchema} value={item} required scope={scope} errors={errors} onChange={(next) => replace(index, next)} />
          )}
        </fieldset>
      ))}
      {(schema.maxItems === undefined || items.length < schema.maxItems) && (
        <button type="button" className="link" onClick={() => onChange([...items, itemSchema.properties ? {} : ""])}>
          + {t("common.add")}
        </button>
      )}
    </div>
  );
}

export function ObjectFields({
  schema,
  value,
  path,
  scope,
  errors,
  onChange,
  only,
}: {
  schema: JsonSchema;
  value: Config;
  path: string;
  scope: string[];
  errors: ValidationError[];
  onChange: (value: Config) => void;
  only?: string[];
}) {
  const required = new Set(schema.required ?? []);
  const names = Object.keys(schema.properties ?? {}).filter((name) => !only || only.includes(name));
  return (
    <>
      {names.map((name) => (
        <SchemaField
          key={name}
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

/** The generic form: every property of the config schema, in schema order. */
export function SchemaForm({ config, spec, scope, errors, onChange }: NodeFormProps) {
  return (
    <div className="schema-form">
      <ObjectFields schema={spec.config_schema} value={config} path="" scope={scope} errors={errors} onChange={onChange} />
    </div>
  );
}
