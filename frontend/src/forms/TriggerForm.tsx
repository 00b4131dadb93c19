import type { Config } from "../api/types";
import { ExternalEventSection } from "../pages/integrations/ExternalEventHelp";
import { useT } from "../i18n";
import { FieldErrors } from "./FieldErrors";
import { ObjectFields } from "./SchemaForm";
import type { NodeFormProps } from "./types";

/** Which extra fields each trigger event needs; the rest of the schema stays out of the way. */
function fieldsFor(config: Config): string[] {
  switch (config.event) {
    case "message": {
      const match = config.match ?? "any";
      return ["match", ...(match === "keyword" ? ["keywords"] : match === "regex" ? ["pattern"] : [])];
    }
    case "interactive_reply":
      return ["reply_ids"];
    case "external":
      return ["event_name"];
    case "schedule":
      return ["schedule"];
    default:
      return [];
  }
}

export function TriggerForm({ config, spec, onChange, scope, errors }: NodeFormProps) {
  const { t, tOptional } = useT();
  const events = (spec.config_schema.properties?.event?.enum ?? []) as string[];
  return (
    <div className="trigger-form">
      <label className="field">
        <span>{t("field.event")}</span>
        <select
          data-testid="trigger-event"
          value={String(config.event ?? "message")}
          onChange={(event) => onChange({ ...config, event: event.target.value })}
        >
          {events.map((value) => (
            <option key={value} value={value}>
              {tOptional(`enum.event.${value}`) ?? value}
            </option>
          ))}
        </select>
        <FieldErrors errors={errors} field="event" />
      </label>
      <ObjectFields schema={spec.config_schema} value={config} path="" scope={scope} errors={errors} onChange={onChange} only={fieldsFor(config)} />
      {config.event === "external" && <ExternalEventSection eventName={String(config.event_name ?? "")} />}
    </div>
  );
}
