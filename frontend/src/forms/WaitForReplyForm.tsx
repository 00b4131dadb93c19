import { useT } from "../i18n";
import { DurationInput, type Duration } from "./DurationInput";
import { FieldErrors } from "./FieldErrors";
import type { NodeFormProps } from "./types";

export function WaitForReplyForm({ config, onChange, errors }: NodeFormProps) {
  const { t } = useT();
  return (
    <div className="wait-form">
      <div className="field">
        <span>{t("wait.timeout")}</span>
        <DurationInput
          nullable
          testId="wait-timeout"
          value={config.timeout as Duration | null}
          onChange={(timeout) => onChange({ ...config, timeout })}
        />
        <small className="hint">{t("wait.timeoutHint")}</small>
        <FieldErrors errors={errors} field="timeout" />
      </div>
      <label className="field">
        <span>{t("field.save_as")}</span>
        <input
          value={String(config.save_as ?? "")}
          placeholder="answer"
          onChange={(event) => {
            const next: Record<string, unknown> = { ...config, save_as: event.target.value };
            if (!event.target.value) delete next.save_as;
            onChange(next);
          }}
        />
        <small className="hint">{t("wait.saveAsHint", { name: String(config.save_as || "…") })}</small>
        <FieldErrors errors={errors} field="save_as" />
      </label>
    </div>
  );
}
