// A template as the customer will see it: header, body with its {{1}} / {{name}} placeholders
// highlighted, footer and buttons.
import { Fragment, type ReactNode } from "react";
import { useT } from "../../i18n";

interface Component {
  type?: string;
  format?: string;
  text?: string;
  buttons?: { type?: string; text?: string; url?: string; phone_number?: string }[];
}

/** Splits text at {{…}} placeholders, marking each one. */
export function highlight(text: string): ReactNode[] {
  const parts = text.split(/(\{\{\s*[A-Za-z0-9_]+\s*\}\})/g);
  return parts.map((part, index) =>
    /^\{\{/.test(part) ? (
      <mark className="placeholder" key={index} data-testid="placeholder">
        {part}
      </mark>
    ) : (
      <Fragment key={index}>{part}</Fragment>
    ),
  );
}

const BUTTON_ICONS: Record<string, string> = { QUICK_REPLY: "↩", URL: "↗", PHONE_NUMBER: "✆", COPY_CODE: "⧉", OTP: "⧉" };

export function TemplatePreview({ components }: { components: unknown[] }) {
  const { t } = useT();
  const list = (components ?? []) as Component[];
  const find = (type: string) => list.find((component) => String(component.type ?? "").toUpperCase() === type);
  const header = find("HEADER");
  const body = find("BODY");
  const footer = find("FOOTER");
  const buttons = find("BUTTONS")?.buttons ?? [];
  return (
    <div className="wa-preview" data-testid="template-preview">
      <div className="wa-bubble">
        {header &&
          (String(header.format ?? "TEXT").toUpperCase() === "TEXT" ? (
            <p className="wa-header">{highlight(header.text ?? "")}</p>
          ) : (
            <div className="wa-media">{t("ws.templates.media", { kind: String(header.format).toLowerCase() })}</div>
          ))}
        <p className="wa-body">{highlight(body?.text ?? "")}</p>
        {footer && <p className="wa-footer">{footer.text}</p>}
      </div>
      {buttons.length > 0 && (
        <div className="wa-buttons">
          {buttons.map((button, index) => (
            <span className="wa-button" key={index} title={button.url || button.phone_number || ""}>
              {BUTTON_ICONS[String(button.type ?? "").toUpperCase()] ?? "•"} {button.text}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
