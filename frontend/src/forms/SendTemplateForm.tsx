// Template picker: choose an approved template, read its text, and fill one expression per variable.
import type { Config } from "../api/types";
import { useT } from "../i18n";
import { ExpressionInput } from "./ExpressionInput";
import { FieldErrors } from "./FieldErrors";
import { placeholders, useTemplates } from "./templates";
import type { NodeFormProps } from "./types";

function bodyParams(config: Config): string[] {
  const parameters = (config.parameters ?? {}) as { body?: unknown[] };
  return (parameters.body ?? []).map((item) =>
    typeof item === "string" ? item : String((item as { value?: string })?.value ?? ""),
  );
}

export function SendTemplateForm({ config, onChange, scope, errors }: NodeFormProps) {
  const { t } = useT();
  const { templates, loading, failed } = useTemplates();
  const name = String(config.template ?? "");
  const language = String(config.language ?? "pt_BR");
  const chosen = templates.find((tpl) => tpl.name === name && tpl.language === language) ?? templates.find((tpl) => tpl.name === name);
  const variables = chosen ? placeholders(chosen.body_text) : [];
  const values = bodyParams(config);
  const count = Math.max(variables.length, chosen?.parameter_count ?? 0);

  const pick = (key: string) => {
    const [pickedName, pickedLanguage] = key.split("|");
    const template = templates.find((tpl) => tpl.name === pickedName && tpl.language === pickedLanguage);
    const needed = template ? Math.max(placeholders(template.body_text).length, template.parameter_count) : 0;
    const body = Array.from({ length: needed }, (_, index) => values[index] ?? "");
    const parameters = { ...((config.parameters as object) ?? {}), body };
    onChange({ ...config, template: pickedName ?? "", language: pickedLanguage || language, parameters });
  };

  const setValue = (index: number, value: string) => {
    const body = Array.from({ length: count }, (_, i) => values[i] ?? "");
    body[index] = value;
    onChange({ ...config, parameters: { ...((config.parameters as object) ?? {}), body } });
  };

  return (
    <div className="template-picker">
      <label className="field">
        <span>{t("template.choose")}</span>
        <select
          data-testid="template-select"
          value={chosen ? `${chosen.name}|${chosen.language}` : name ? `${name}|${language}` : ""}
          onChange={(event) => pick(event.target.value)}
        >
          <option value="">{loading ? t("common.loading") : t("template.none")}</option>
          {name && !chosen && !loading && <option value={`${name}|${language}`}>{name} ({t("template.missing")})</option>}
          {templates.map((tpl) => (
            <option key={`${tpl.name}|${tpl.language}`} value={`${tpl.name}|${tpl.language}`}>
              {tpl.name} · {tpl.language}
            </option>
          ))}
        </select>
      </label>
      <a className="small" href={`/templates${name ? `?q=${encodeURIComponent(name)}` : ""}`} target="_blank" rel="noreferrer" data-testid="open-templates">
        {t("ws.templates.browse")} ↗
      </a>
      {failed && <p className="field-errors">{t("template.loadFailed")}</p>}
      <FieldErrors errors={errors} field="template" />
      {chosen && (
        <>
          <blockquote className="template-text" data-testid="template-text">
            {chosen.body_text}
          </blockquote>
          {Array.from({ length: count }, (_, index) => (
            <label className="field" key={index}>
              <span>{t("template.variable", { n: variables[index] ?? index + 1 })}</span>
              <ExpressionInput
                value={values[index] ?? ""}
                onChange={(value) => setValue(index, value)}
                scope={scope}
                placeholder={t("template.pickValue")}
                ariaLabel={t("template.variable", { n: variables[index] ?? index + 1 })}
                testId={`template-var-${index}`}
              />
              <FieldErrors errors={errors} field={`parameters.body.${index}`} />
            </label>
          ))}
        </>
      )}
    </div>
  );
}
