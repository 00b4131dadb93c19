// The trigger: the schema-driven form (the API says which fields each event shows), plus a
// shortcut for external events: declare the {{trigger.*}} fields the flow already uses.
import type { Config } from "../api/types";
import { ExternalEventSection } from "../pages/integrations/ExternalEventHelp";
import { useT } from "../i18n";
import { useEditorState } from "../editor/context";
import { isStepNode } from "../editor/graph";
import { triggerFieldsUsed } from "../editor/trace";
import { SchemaForm } from "./SchemaForm";
import type { NodeFormProps } from "./types";

export function TriggerForm(props: NodeFormProps) {
  const { t } = useT();
  const { config, onChange } = props;
  const used = useEditorState((state) =>
    triggerFieldsUsed(state.nodes.filter(isStepNode).map((node) => node.data.config)).join(","),
  );
  const declared = new Set(((config.fields as Config[] | undefined) ?? []).map((field) => String(field.name ?? "")));
  const missing = used ? used.split(",").filter((name) => !declared.has(name)) : [];
  return (
    <div className="trigger-form">
      <SchemaForm {...props} />
      {config.event === "external" && <ExternalEventSection eventName={String(config.event_name ?? "")} />}
      {config.event === "external" && missing.length > 0 && (
        <div className="field">
          <button
            type="button"
            data-testid="declare-used-fields"
            onClick={() =>
              onChange({
                ...config,
                fields: [...((config.fields as Config[] | undefined) ?? []), ...missing.map((name) => ({ name, type: "text", sample: "" }))],
              })
            }
          >
            + {t("panel.fieldsUsed")}
          </button>
          <small className="hint">{t("panel.fieldsUsedHint", { names: missing.join(", ") })}</small>
        </div>
      )}
    </div>
  );
}
