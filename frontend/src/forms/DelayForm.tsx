import { useT } from "../i18n";
import { DurationInput, type Duration } from "./DurationInput";
import { ExpressionInput } from "./ExpressionInput";
import { FieldErrors } from "./FieldErrors";
import type { NodeFormProps } from "./types";

const MODES = ["duration", "time_of_day", "business_hours", "expression"] as const;

/** Delay: shows only the fields the chosen mode uses. */
export function DelayForm({ config, onChange, scope, errors }: NodeFormProps) {
  const { t } = useT();
  const mode = (config.mode as string) ?? "duration";
  const set = (name: string, value: unknown) => {
    const next = { ...config };
    if (value === undefined || value === "" || value === null) delete next[name];
    else next[name] = value;
    onChange(next);
  };
  return (
    <div className="delay-form">
      <label className="field">
        <span>{t("delay.mode")}</span>
        <select data-testid="delay-mode" value={mode} onChange={(event) => set("mode", event.target.value)}>
          {MODES.map((value) => (
            <option key={value} value={value}>
              {t(`delay.mode.${value}`)}
            </option>
          ))}
        </select>
      </label>
      {mode === "duration" && (
        <div className="field">
          <span>{t("delay.wait")}</span>
          <DurationInput testId="delay-duration" value={config.duration as Duration} onChange={(value) => set("duration", value)} />
          <FieldErrors errors={errors} field="duration" />
        </div>
      )}
      {mode === "time_of_day" && (
        <label className="field">
          <span>{t("delay.time")}</span>
          <input type="time" value={String(config.time ?? "")} onChange={(event) => set("time", event.target.value)} />
          <FieldErrors errors={errors} field="time" />
        </label>
      )}
      {mode === "business_hours" && (
        <label className="field">
          <span>{t("field.business_hours")}</span>
          <input
            value={String(config.business_hours ?? "")}
            placeholder="mon-fri 09:00-18:00"
            onChange={(event) => set("business_hours", event.target.value)}
          />
        </label>
      )}
      {mode === "expression" && (
        <>
          <div className="field">
            <span>{t("delay.until")}</span>
            <ExpressionInput
              value={String(config.expression ?? "")}
              onChange={(value) => set("expression", value)}
              scope={scope}
              placeholder="{{trigger.appointment_at}}"
            />
            <FieldErrors errors={errors} field="expression" />
          </div>
          <div className="field">
            <span>{t("delay.offset")}</span>
            <DurationInput nullable value={config.offset as Duration} onChange={(value) => set("offset", value)} />
          </div>
        </>
      )}
      {mode !== "duration" && (
        <label className="field">
          <span>{t("field.timezone")}</span>
          <input value={String(config.timezone ?? "")} placeholder="America/Sao_Paulo" onChange={(event) => set("timezone", event.target.value)} />
        </label>
      )}
    </div>
  );
}
