import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { User } from "../api/types";
import { useLanguage } from "../i18n";
import { mockFetch } from "../test/fixtures";
import { ChannelConnectPage } from "./channels/ChannelConnectPage";
import { ContactImportPage } from "./contacts/ContactImportPage";
import { sourceLabel } from "./contacts/ContactPage";
import { curlCommand, ExternalEventHelp, sampleBody } from "./integrations/ExternalEventHelp";
import { TemplatePreview } from "./templates/TemplatePreview";
import { translate } from "../i18n";

const admin: User = { id: 1, username: "nina", first_name: "Nina", language: "pt-BR", roles: ["viewer", "editor", "admin"] };

beforeEach(() => useLanguage.getState().setLanguage("pt-BR"));

describe("template preview", () => {
  it("highlights positional and named placeholders and shows the buttons", () => {
    render(
      <TemplatePreview
        components={[
          { type: "HEADER", format: "TEXT", text: "Loja" },
          { type: "BODY", text: "Olá {{1}}, seu pedido {{ pedido }} saiu." },
          { type: "BUTTONS", buttons: [{ type: "QUICK_REPLY", text: "Rastrear" }, { type: "URL", text: "Site", url: "https://x" }] },
        ]}
      />,
    );
    expect(screen.getAllByTestId("placeholder").map((node) => node.textContent)).toEqual(["{{1}}", "{{ pedido }}"]);
    expect(screen.getByText(/Rastrear/)).toBeTruthy();
    expect(screen.getByText(/Site/)).toBeTruthy();
  });
});

describe("external event help", () => {
  it("builds the body from the fields the flow reads and a curl that keeps the key out", () => {
    const body = sampleBody("call.finished", ["call_result", "agent"]);
    expect(body).toEqual({ event: "call.finished", contact: { phone: "+5511987654321", name: "Maria Silva" }, data: { call_result: "<call_result>", agent: "<agent>" } });
    const curl = curlCommand("https://fluxo.example.com/api/events/", { ...body, data: { note: "it's" } });
    expect(curl).toContain('-H "Authorization: Bearer $FLUXO_API_KEY"');
    expect(curl).toContain("it'\\''s"); // a quote inside the JSON survives the shell
    render(<ExternalEventHelp eventName="call.finished" fields={["call_result"]} origin="https://fluxo.example.com" />);
    expect(screen.getByTestId("event-url").textContent).toBe("POST https://fluxo.example.com/api/events/");
    expect(JSON.parse(screen.getByTestId("event-body").textContent ?? "{}").data).toEqual({ call_result: "<call_result>" });
  });
});

describe("consent source", () => {
  it("says how a change happened in the reader's language", () => {
    const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) => translate("pt-BR", key, params);
    const base = { id: 1, category: "marketing", state: "opted_out", at: "", note: "", actor: null, message: null, import: null };
    expect(sourceLabel(t, { ...base, source: "keyword SAIR" })).toBe("O cliente escreveu “SAIR”");
    expect(sourceLabel(t, { ...base, source: "import #3 (a.csv)", import: { id: 3, filename: "a.csv" } })).toBe("Importação de contatos #3");
    expect(sourceLabel(t, { ...base, source: "by hand (ana)", actor: "ana" })).toBe("Registrado à mão");
  });
});

describe("channel connect", () => {
  it("checks the token before saving and shows what Meta said", async () => {
    const calls = mockFetch((method, url) => {
      if (url === "/api/channels/connect-info/") return { status: 200, body: { callback_url: "https://f.example/webhooks/whatsapp/", verify_token: "tok-123" } };
      if (method === "POST" && url === "/api/channels/check/")
        return { status: 200, body: { ok: true, error: "", code: "", info: { verified_name: "Loja", display_phone_number: "+55 11 4000-1234", quality_rating: "YELLOW", messaging_limit_tier: "TIER_10K" } } };
      return undefined;
    });
    render(<ChannelConnectPage user={admin} params={{}} />);
    await waitFor(() => expect(screen.getAllByTestId("verify-token")[0].textContent).toBe("tok-123"));
    expect(screen.getByTestId("callback-url").textContent).toBe("https://f.example/webhooks/whatsapp/");
    expect((screen.getByTestId("channel-save") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId("channel-phone-number-id"), { target: { value: "106540352242922" } });
    fireEvent.change(screen.getByTestId("channel-token"), { target: { value: "EAAG" } });
    fireEvent.click(screen.getByTestId("channel-check"));
    const result = await screen.findByTestId("check-result");
    expect(result.textContent).toContain("Loja");
    expect(result.textContent).toContain("Média");
    expect(result.textContent).toContain("10.000 clientes novos por dia");
    expect(calls.find((call) => call.url === "/api/channels/check/")?.body).toEqual({ phone_number_id: "106540352242922", access_token: "EAAG", graph_api_version: "v23.0" });
  });
});

describe("contact import", () => {
  it("maps columns, lists the bad rows and imports only when they are skipped", async () => {
    const calls = mockFetch((method, url) => {
      if (method === "POST" && url === "/api/contacts/imports/")
        return {
          status: 201,
          body: { id: 7, filename: "c.csv", status: "uploaded", row_count: 3, created: 0, updated: 0, skipped: 0, error: "", progress: { processed: 0, total: 3 },
            columns: ["Telefone", "Nome"], sample: [{ Telefone: "11 98765-0001", Nome: "Ana" }], suggested_mapping: { phone: "Telefone", name: "Nome", attributes: [] } },
        };
      if (url === "/api/contacts/imports/7/dry-run/")
        return { status: 200, body: { total: 3, valid: 2, invalid: 1, create: 2, update: 0, bad_rows: [{ line: 3, phone: "123", code: "phone_invalid", reason: "'123' não é um telefone válido" }] } };
      if (url === "/api/contacts/imports/7/run/")
        return { status: 202, body: { id: 7, filename: "c.csv", status: "done", row_count: 3, created: 2, updated: 0, skipped: 1, error: "", progress: { processed: 3, total: 3 } } };
      return undefined;
    });
    render(<ContactImportPage user={admin} params={{}} />);
    const file = new File(["Telefone,Nome\n11 98765-0001,Ana\n"], "c.csv", { type: "text/csv" });
    fireEvent.change(screen.getByTestId("import-file"), { target: { files: [file] } });
    await waitFor(() => expect((screen.getByTestId("map-phone") as HTMLSelectElement).value).toBe("Telefone"));
    fireEvent.click(screen.getByTestId("dry-run"));
    const bad = await screen.findAllByTestId("bad-row");
    expect(within(bad[0]).getByText("Telefone inválido")).toBeTruthy();
    expect((screen.getByTestId("run-import") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId("skip-invalid"));
    fireEvent.click(screen.getByTestId("run-import"));
    expect((await screen.findByTestId("import-done")).textContent).toContain("2 criado(s)");
    expect(calls.find((call) => call.url === "/api/contacts/imports/7/run/")?.body).toMatchObject({ skip_invalid: true, mapping: { phone: "Telefone", name: "Nome" } });
  });
});
