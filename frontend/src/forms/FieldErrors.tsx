import type { ValidationError } from "../api/types";
import { useT } from "../i18n";

/** Problems whose field is `field` (or inside it, e.g. "conditions.c1.rules.0.left" under "conditions.c1"). */
export function errorsFor(errors: ValidationError[], field: string): ValidationError[] {
  return errors.filter((error) => error.field === field || (error.field ?? "").startsWith(`${field}.`));
}

export function FieldErrors({ errors, field, exact = false }: { errors: ValidationError[]; field: string; exact?: boolean }) {
  const { label } = useT();
  const mine = exact ? errors.filter((error) => error.field === field) : errorsFor(errors, field);
  if (mine.length === 0) return null;
  return (
    <ul className="field-errors" role="alert">
      {mine.map((error, index) => (
        <li key={`${error.code}-${index}`} className={error.severity === "warning" ? "warning" : undefined} data-code={error.code}>
          {label(error.message, error.code)}
        </li>
      ))}
    </ul>
  );
}
