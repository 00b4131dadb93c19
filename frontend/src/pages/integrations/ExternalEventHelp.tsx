// Shown by the trigger form for an external event: the exact request a company system sends to
// start this flow (URL, headers, a sample JSON body built from the {{trigger.*}} fields the flow
// uses), and a copy-as-curl button. The API key stays a shell variable: keys are shown only once.
import { useMemo } from "react";
import { triggerFieldsUsed } from "../../editor/trace";
import { useEditor } from "../../editor/store";
import { useT } from "../../i18n";
import { CopyButton } from "../ui";
import "../workspace.css";

export function sampleBody(eventName: string, fields: string[]): Record<string, unknown> {
  const data = Object.fromEntries(fields.filter((name) => name !== "event").map((name) => [name, `<${name}>`]));
  return { event: eventName || "<event_name>", contact: { phone: "+5511987654321", name: "Maria Silva" }, data };
}

export function curlCommand(url: string, body: Record<string, unknown>): string {
  const json = JSON.stringify(body, null, 2).replace(/'/g, "'\\''");
  return [
    `curl -X POST '${url}'`,
    `  -H "Authorization: Bearer $FLUXO_API_KEY"`,
    `  -H 'Content-Type: application/json'`,
    `  -H "Idempotency-Key: $(date +%s%N)"`,
    `  -d '${json}'`,
  ].join(" \\\n");
}

export function ExternalEventHelp({ eventName, fields, origin = window.location.origin }: { eventName: string; fields: string[]; origin?: string }) {
  const { t } = useT();
  const url = `${origin}/api/events/`;
  const body = sampleBody(eventName, fields);
  const curl = curlCommand(url, body);
  return (
    <section className="external-event-help" data-testid="external-event-help">
      <h3>{t("ws.event.title")}</h3>
      <p className="small">{t("ws.event.help")}</p>
      <dl className="facts small">
        <dt>URL</dt>
        <dd>
          <code data-testid="event-url">POST {url}</code>
        </dd>
        <dt>{t("ws.event.headers")}</dt>
        <dd>
          <code>Authorization: Bearer flx_…</code>
          <br />
          <code>Content-Type: application/json</code>
          <br />
          <code>Idempotency-Key: {t("ws.event.idempotency")}</code>
        </dd>
      </dl>
      <span className="field-label">{t("ws.event.body")}</span>
      <pre className="json" data-testid="event-body">
        {JSON.stringify(body, null, 2)}
      </pre>
      {fields.length === 0 && <p className="hint">{t("ws.event.noFields")}</p>}
      <div className="actions">
        <CopyButton text={curl} testId="copy-curl" label="ws.event.copyCurl" />
        <a href="/integrations?tab=keys" target="_blank" rel="noreferrer" className="small">
          {t("ws.event.getKey")} ↗
        </a>
      </div>
      <pre className="json curl" data-testid="event-curl" hidden>
        {curl}
      </pre>
    </section>
  );
}

/** What the trigger form renders: the help for the flow open in the editor. */
export function ExternalEventSection({ eventName }: { eventName: string }) {
  const nodes = useEditor((state) => state.nodes);
  const fields = useMemo(() => triggerFieldsUsed(nodes.map((node) => (node.data as { config?: unknown }).config)), [nodes]);
  return <ExternalEventHelp eventName={eventName} fields={fields} />;
}
