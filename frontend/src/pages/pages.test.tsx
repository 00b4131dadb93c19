import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowSummary, User } from "../api/types";
import { useLanguage } from "../i18n";
import { mockFetch } from "../test/fixtures";
import { FlowListPage } from "./FlowListPage";
import { LanguageSwitch } from "./LanguageSwitch";

const editor: User = { id: 1, username: "ana", first_name: "Ana", language: "pt-BR", roles: ["viewer", "editor"] };

const flow = (id: number, name: string, extra: Partial<FlowSummary> = {}): FlowSummary => ({
  id,
  name,
  description: "",
  status: "active",
  published_revision: 4,
  published_at: "2026-11-20T12:00:00Z",
  latest_revision: 5,
  updated_at: "2026-11-21T12:00:00Z",
  run_counts: { active: 2, waiting: 3, completed: 40, failed: 1, total: 46 },
  ...extra,
});

beforeEach(() => useLanguage.getState().setLanguage("pt-BR"));

describe("flow list", () => {
  it("lists flows with published revision and run counts, and searches", async () => {
    const calls = mockFetch((method, url) => {
      if (method === "GET" && url.startsWith("/api/flows/?")) {
        const search = new URL(url, "http://x").searchParams.get("search");
        return { status: 200, body: search ? [flow(2, "Cobrança")] : [flow(1, "Pós-ligação"), flow(2, "Cobrança", { published_revision: null, status: "draft" })] };
      }
      return undefined;
    });
    render(<FlowListPage user={editor} />);
    const rows = await screen.findAllByTestId("flow-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByText("#4")).toBeTruthy();
    expect(within(rows[0]).getByText("✓ 40")).toBeTruthy();
    expect(within(rows[1]).getByText("Nunca publicado")).toBeTruthy();
    fireEvent.change(screen.getByTestId("flow-search"), { target: { value: "cob" } });
    await waitFor(() => expect(screen.getAllByTestId("flow-row")).toHaveLength(1));
    expect(calls.some((call) => call.url.includes("search=cob"))).toBe(true);
  });

  it("duplicates and archives through the API", async () => {
    const calls = mockFetch((method, url) => {
      if (method === "GET") return { status: 200, body: [flow(1, "Pós-ligação")] };
      if (method === "POST" && /\/api\/flows\/1\/(duplicate|archive)\/$/.test(url)) return { status: 201, body: flow(9, "Cópia") };
      return undefined;
    });
    render(<FlowListPage user={editor} />);
    await screen.findByTestId("flow-row");
    fireEvent.click(screen.getByText("Duplicar"));
    await waitFor(() => expect(calls.some((call) => call.url === "/api/flows/1/duplicate/")).toBe(true));
    fireEvent.click(screen.getByText("Arquivar"));
    await waitFor(() => expect(calls.some((call) => call.url === "/api/flows/1/archive/")).toBe(true));
  });

  it("hides editing actions from viewers", async () => {
    mockFetch(() => ({ status: 200, body: [flow(1, "Pós-ligação")] }));
    render(<FlowListPage user={{ ...editor, roles: ["viewer"] }} />);
    await screen.findByTestId("flow-row");
    expect(screen.queryByTestId("new-flow")).toBeNull();
    expect(screen.queryByText("Duplicar")).toBeNull();
    expect(screen.getByText("Exportar")).toBeTruthy();
  });
});

describe("language switch", () => {
  it("switches the UI to English and saves the choice on the user", async () => {
    const calls = mockFetch((method, url) => (method === "PATCH" && url === "/api/auth/session/" ? { status: 200, body: {} } : undefined));
    render(<LanguageSwitch persist />);
    fireEvent.change(screen.getByTestId("language-switch"), { target: { value: "en" } });
    expect(useLanguage.getState().language).toBe("en");
    expect(screen.getByLabelText("Language")).toBeTruthy();
    await waitFor(() => expect(calls).toEqual([{ method: "PATCH", url: "/api/auth/session/", body: { language: "en" } }]));
  });
});
