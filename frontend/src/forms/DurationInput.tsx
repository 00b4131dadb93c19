import { useT } from "../i18n";

export type DurationUnit = "seconds" | "minutes" | "hours" | "days";
export interface Duration {
  value: number;
  unit: DurationUnit;
}

export const DURATION_UNITS: DurationUnit[] = ["seconds", "minutes", "hours", "days"];

export function isDuration(value: unknown): value is Duration {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Duration).value === "number" &&
    DURATION_UNITS.includes((value as Duration).unit)
  );
}

/** A number and a unit, side by side ("2 horas"). Empty number means "no duration" when nullable. */
export function DurationInput({
  value,
  onChange,
  nullable = false,
  testId,
}: {
  value: Duration | null | undefined;
  onChange: (value: Duration | null) => void;
  nullable?: boolean;
  testId?: string;
}) {
  const { t } = useT();
  const current = isDuration(value) ? value : null;
  return (
    <div className="duration-input" data-testid={testId}>
      <input
        type="number"
        min={0}
        step="any"
        aria-label={t("form.durationValue")}
        value={current ? String(current.value) : ""}
        placeholder={nullable ? t("form.noLimit") : "0"}
        onChange={(event) => {
          const raw = event.target.value;
          if (raw === "") {
            onChange(nullable ? null : { value: 0, unit: current?.unit ?? "hours" });
            return;
          }
          onChange({ value: Number(raw), unit: current?.unit ?? "hours" });
        }}
      />
      <select
        aria-label={t("form.durationUnit")}
        value={current?.unit ?? "hours"}
        onChange={(event) => onChange({ value: current?.value ?? 1, unit: event.target.value as DurationUnit })}
      >
        {DURATION_UNITS.map((unit) => (
          <option key={unit} value={unit}>
            {t(`unit.${unit}`)}
          </option>
        ))}
      </select>
    </div>
  );
}
