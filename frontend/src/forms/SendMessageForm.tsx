// Send message: the text, and reply buttons typed by their titles (ids are derived, editable),
// or a list (schema-driven). WhatsApp allows buttons or a list, not both.
import type { Config } from "../api/types";
import { useT } from "../i18n";
import { FieldErrors } from "./FieldErrors";
import { ObjectFields } from "./SchemaForm";
import type { NodeFormProps } from "./types";

interface ReplyButton {
  id: string;
  title: string;
}


/** "Falar com atendente" → "falar_com_atendente", unique among `taken`. */
export function buttonId(title: string, taken: string[]): string {
  const base =
    title
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_|_$/g, "")
      .slice(0, 40) || "botao";
  let id = base;
  for (let n = 2; taken.includes(id); n += 1) id = `${base}_${n}`;
  return id;
}

type ReplyKind = "none" | "buttons" | "list";

export function SendMessageForm({ config, spec, onChange, scope, errors }: NodeFormProps) {
  const { t } = useT();
  // WhatsApp's limits, as the node type's schema states them.
  const buttonsSchema = spec.config_schema.properties?.buttons;
  const MAX_BUTTONS = buttonsSchema?.maxItems ?? 3;
  const MAX_TITLE = buttonsSchema?.items?.properties?.title?.maxLength ?? 20;
  const buttons = (Array.isArray(config.buttons) ? config.buttons : []) as ReplyButton[];
  const kind: ReplyKind = config.list ? "list" : buttons.length > 0 || Array.isArray(config.buttons) ? "buttons" : "none";

  const setKind = (next: ReplyKind) => {
    const updated: Config = { ...config };
    delete updated.buttons;
    delete updated.list;
    if (next === "buttons") updated.buttons = [];
    if (next === "list") updated.list = { button: t("message.listButton"), sections: [{ rows: [{ id: "opcao_1", title: t("message.option", { n: 1 }) }] }] };
    onChange(updated);
  };

  const setButtons = (next: ReplyButton[]) => onChange({ ...config, buttons: next });
  const rename = (index: number, title: string) => {
    const others = buttons.filter((_, i) => i !== index).map((button) => button.id);
    const current = buttons[index];
    // The id follows the title until someone edits the id by hand.
    const derived = current.id === buttonId(current.title, others) || !current.id;
    setButtons(buttons.map((button, i) => (i === index ? { id: derived ? buttonId(title, others) : button.id, title } : button)));
  };

  return (
    <div className="send-message-form">
      <ObjectFields spec={spec} schema={spec.config_schema} value={config} path="" scope={scope} errors={errors} onChange={onChange} only={["text"]} />
      <div className="field">
        <span>{t("message.replies")}</span>
        <select data-testid="reply-kind" value={kind} onChange={(event) => setKind(event.target.value as ReplyKind)}>
          <option value="none">{t("message.noReplies")}</option>
          <option value="buttons">{t("message.buttons")}</option>
          <option value="list">{t("message.list")}</option>
        </select>
      </div>
      {kind === "buttons" && (
        <div className="field">
          {buttons.map((button, index) => (
            <div className="reply-button-row" key={index} data-testid="reply-button">
              <input
                aria-label={t("message.buttonTitle", { n: index + 1 })}
                data-testid="button-title"
                maxLength={MAX_TITLE}
                value={button.title}
                onChange={(event) => rename(index, event.target.value)}
              />
              <input
                className="button-id"
                aria-label={t("message.buttonId", { n: index + 1 })}
                data-testid="button-id"
                value={button.id}
                onChange={(event) => setButtons(buttons.map((b, i) => (i === index ? { ...b, id: event.target.value } : b)))}
              />
              <button type="button" className="icon-button" aria-label={t("common.remove")} onClick={() => setButtons(buttons.filter((_, i) => i !== index))}>
                ×
              </button>
            </div>
          ))}
          {buttons.length < MAX_BUTTONS && (
            <button
              type="button"
              className="link"
              data-testid="add-button"
              onClick={() => {
                const title = t("message.option", { n: buttons.length + 1 });
                setButtons([...buttons, { id: buttonId(title, buttons.map((b) => b.id)), title }]);
              }}
            >
              + {t("message.addButton")}
            </button>
          )}
          <small className="hint">{t("message.buttonsHint")}</small>
          <FieldErrors errors={errors} field="buttons" />
        </div>
      )}
      {kind === "list" && <ObjectFields spec={spec} schema={spec.config_schema} value={config} path="" scope={scope} errors={errors} onChange={onChange} only={["list"]} />}
      <ObjectFields spec={spec} schema={spec.config_schema} value={config} path="" scope={scope} errors={errors} onChange={onChange} only={["header", "footer", "preview_url"]} />
    </div>
  );
}
