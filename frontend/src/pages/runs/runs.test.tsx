import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { filtersFromQuery, filtersToQuery, type Dashboard, type RunRow, type RunStepDetail } from "../../api/runs";
import type { User } from "../../api/types";
import { useLanguage } from "../../i18n";
import { mockFetch, NODE_TYPES, postCallDefinition } from "../../test/fixtures";
import { DashboardPage } from "../dashboard/DashboardPage";
import { AlertsBell } from "./AlertsBell";
import { CanvasOverlayContext, PortOverlay, StepOverlay } from "./overlay";
import { RunsPage } from "./RunsPage";
import { StepDetail } from "./StepDetail";

const admin: User = { id: 1, username: "ana", first_name: "Ana", language: "pt-BR", roles: ["viewer", "editor", "admin"] };
const viewer: User = { id: 2, username: "vera", first_name: "Vera", language: "pt-BR", roles: ["viewer"] };

const row = (id: number, extra: Partial<RunRow> = {}): RunRow => ({
  id,
  flow: { id: 7, name: "Pós-ligação" },
  revision: 3,
  contact: { id: 1, phone: "+5511987650001", name: "Maria Silva" },
  status: "failed",
  current_node: "route",
  wait_kind: "",
  wake_at: null,
  is_test: false,
  step_count: 4,
  end_reason: "http_request 'erp': answered 500",
  started_at: "2026-11-30T12:00:00Z",
  ended_at: "2026-11-30T12:00:02Z",
  ...extra,
});

beforeEach(() => {
  useLanguage.getState().setLanguage("pt-BR");
  window.history.replaceState(null, "", "/runs");
});

describe("run filters", () => {
  it("round-trip through the query string", () => {
    const filters = { flow: 7, status: ["failed" as const, "expired" as const], contact: "maria", has_error: true, q: "500", tests: true };
    expect(filtersFromQuery(`?${filtersToQuery(filters).toString()}`)).toEqual({ ...filters, since: undefined, until: undefined });
    expect(filtersFromQuery("?status=dormindo&flow=abc")).toEqual(expect.objectContaining({ status: undefined, flow: undefined }));
  });
});

describe("runs page", () => {
  it("lists runs and sends the filters to the server", async () => {
    const calls = mockFetch((_method, url) => {
      if (url.startsWith("/api/flows/")) return { status: 200, body: [] };
      if (url === "/api/runs/?cursor=abc") return { status: 200, body: { next: null, previous: null, results: [row(0, { status: "completed" })] } };
      if (url.startsWith("/api/runs/?")) return { status: 200, body: { next: "/api/runs/?cursor=abc", previous: null, results: [row(2), row(1, { status: "waiting", ended_at: null })] } };
      return undefined;
    });
    render(<RunsPage user={admin} />);
    const rows = await screen.findAllByTestId("run-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByText("falhou")).toBeTruthy();
    expect(within(rows[1]).getByText("aguardando em route")).toBeTruthy();
    fireEvent.click(screen.getByTestId("filter-status-failed"));
    fireEvent.change(screen.getByTestId("filter-contact"), { target: { value: "maria" } });
    fireEvent.click(screen.getByTestId("filter-has-error"));
    await waitFor(() => expect(calls.some((call) => call.url.includes("status=failed") && call.url.includes("contact=maria") && call.url.includes("has_error=true"))).toBe(true));
    expect(window.location.search).toContain("status=failed");
    fireEvent.click(screen.getByTestId("runs-more"));
    await waitFor(() => expect(screen.getAllByTestId("run-row")).toHaveLength(3));
  });

  it("keeps test runs apart and bulk actions to admins", async () => {
    const calls = mockFetch((_method, url) => {
      if (url.startsWith("/api/flows/")) return { status: 200, body: [] };
      if (url.startsWith("/api/runs/?")) return { status: 200, body: { next: null, previous: null, results: [row(1)] } };
      return undefined;
    });
    render(<RunsPage user={viewer} />);
    await screen.findAllByTestId("run-row");
    expect(screen.queryByTestId("bulk-retry")).toBeNull();
    expect(screen.getByText("Ações em massa são para administradores.")).toBeTruthy();
    fireEvent.click(screen.getByTestId("filter-tests"));
    await waitFor(() => expect(calls.some((call) => call.url.includes("tests=true"))).toBe(true));
    expect(screen.getByText(/nunca entram nas estatísticas/)).toBeTruthy();
  });

  it("counts a bulk action first and records it only once confirmed", async () => {
    const calls = mockFetch((method, url, body) => {
      if (url.startsWith("/api/flows/")) return { status: 200, body: [] };
      if (url.startsWith("/api/runs/?")) return { status: 200, body: { next: null, previous: null, results: [row(1)] } };
      if (method === "POST" && url === "/api/runs/bulk/") {
        const dry = (body as { dry_run: boolean }).dry_run;
        return { status: dry ? 200 : 202, body: { id: 5, action: "retry", total: 12, recorded: 0, states: {}, finished_at: dry ? null : "2026-12-01T00:00:00Z" } };
      }
      return undefined;
    });
    const answers = [false, true];
    window.confirm = () => answers.shift() ?? false;
    render(<RunsPage user={admin} />);
    await screen.findAllByTestId("run-row");
    fireEvent.click(screen.getByTestId("bulk-retry"));
    await waitFor(() => expect(calls.filter((call) => call.url === "/api/runs/bulk/")).toHaveLength(1));
    fireEvent.click(screen.getByTestId("bulk-retry"));
    await screen.findByTestId("bulk-progress");
    const posts = calls.filter((call) => call.url === "/api/runs/bulk/").map((call) => (call.body as { dry_run: boolean }).dry_run);
    expect(posts).toEqual([true, true, false]);
  });
});

describe("step detail", () => {
  const specs = Object.fromEntries(NODE_TYPES.map((spec) => [spec.key, spec]));
  const step = (extra: Partial<RunStepDetail>): RunStepDetail => ({
    id: 1,
    seq: 3,
    node_id: "route",
    node_type: "branch",
    port: "c1",
    outcome: "next",
    input: { config: { mode: "conditions" } },
    output: { matched: "c1" },
    error: "",
    started_at: "2026-11-30T12:00:00Z",
    duration_us: 1500,
    ...extra,
  });

  it("names the port by its label, shows duration, input and output, raw JSON on demand", () => {
    render(<StepDetail step={step({})} definition={postCallDefinition()} specs={specs} />);
    expect(screen.getByTestId("step-port").textContent).toBe("Não atendeu");
    expect(screen.getByText("2 ms")).toBeTruthy();
    expect(within(screen.getByTestId("step-input")).getByText("conditions")).toBeTruthy();
    expect(screen.queryByText(/"node_id": "route"/)).toBeNull();
    fireEvent.click(screen.getByTestId("step-raw-toggle"));
    expect(screen.getByText(/"node_id": "route"/)).toBeTruthy();
  });

  it("shows the error and, for a resumption, the event that resumed it", () => {
    render(
      <StepDetail
        step={step({ port: "", outcome: "error", error: "the company API answered 500", input: { event_kind: "timer", event: { run_id: 9 } } })}
        definition={postCallDefinition()}
        specs={specs}
      />,
    );
    expect(screen.getByTestId("step-error").textContent).toContain("answered 500");
    expect(screen.getByText("Retomado por: timer")).toBeTruthy();
    expect(within(screen.getByTestId("step-input")).getByText("run_id")).toBeTruthy();
  });
});

describe("canvas overlay", () => {
  it("draws a node's badge and port figures only inside a provider", () => {
    const { rerender } = render(
      <>
        <StepOverlay nodeId="route" />
        <PortOverlay nodeId="route" port="c1" />
      </>,
    );
    expect(screen.queryByTestId("overlay-route")).toBeNull();
    rerender(
      <CanvasOverlayContext.Provider value={{ route: { badge: <b>3 entraram</b>, ports: { c1: 2 } } }}>
        <StepOverlay nodeId="route" />
        <PortOverlay nodeId="route" port="c1" />
        <PortOverlay nodeId="route" port="c2" />
      </CanvasOverlayContext.Provider>,
    );
    expect(screen.getByTestId("overlay-route").textContent).toBe("3 entraram");
    expect(screen.getByTestId("port-count-route-c1").textContent).toBe("2");
    expect(screen.queryByTestId("port-count-route-c2")).toBeNull();
  });
});

const dashboard = (): Dashboard => ({
  since: "2026-11-30T00:00:00Z",
  until: "2026-12-01T00:00:00Z",
  flow_id: null,
  step: "hour",
  runs: { started: 10, completed: 7, failed: 3, expired: 0, cancelled: 0, failure_rate: 0.3, actions: {} },
  series: [{ at: "2026-11-30T12:00:00Z", "runs.started": 10, "runs.completed": 7, "runs.failed": 3, "runs.expired": 0, "msg.sent": 9, "msg.delivered": 8, "msg.read": 2, "msg.failed": 1 }],
  failure_reasons: [{ key: "http_request 'erp': http://erp:#/pedidos answered #", count: 3 }],
  http: [{ host: "erp:8080", calls: 10, errors: 3, timeouts: 1 }],
  ai: { calls: 0, failures: 0, by_code: [], handoffs: 0, handoffs_by_team: [] },
  graph_errors: [{ code: "131026", request: 0, status: 1, total: 1, reason: "message undeliverable" }],
  messages: { sent: 9, delivered: 8, read: 2, failed: 1, delivery_rate: 0.8889, read_rate: 0.2222, replies: 4 },
  reply_time: { median_seconds: 42, p90_seconds: 300, answered: 4 },
  flows: [],
  templates: [{ template: "lembrete", "msg.sent": 4, delivery_rate: 1, read_rate: 0.5 }],
  gauges: { runs_waiting: 2, runs_active: 0, timers_overdue: 1, timers_lateness_seconds: 90, events_pending: 0, messages_queued: 0 },
  channels: [{ id: 1, name: "Loja", kind: "whatsapp_cloud", paused: true, paused_at: "2026-11-30T12:00:00Z", pause_reason: "190: token", quality_rating: "GREEN", messaging_limit_tier: "TIER_1K", health_checked_at: null }],
  updated_at: "2026-12-01T00:00:00Z",
});

describe("dashboard", () => {
  it("shows the figures, rates and links failures to their runs", async () => {
    mockFetch((_method, url) => {
      if (url.startsWith("/api/flows/")) return { status: 200, body: [] };
      if (url.startsWith("/api/dashboard/")) return { status: 200, body: dashboard() };
      return undefined;
    });
    render(<DashboardPage />);
    expect((await screen.findByTestId("card-failed")).textContent).toContain("3");
    expect(screen.getByTestId("card-delivery-rate").textContent).toContain("88,9%");
    const link = screen.getByTestId("reason-runs") as HTMLAnchorElement;
    expect(decodeURIComponent(link.getAttribute("href") ?? "").replace(/\+/g, " ")).toContain("q=http_request 'erp': http://erp:");
    expect(screen.getByTestId("dash-channels").textContent).toContain("Pausado: 190: token");
    expect(screen.getByTestId("dash-graph").textContent).toContain("131026");
    expect(screen.getByText("42 s")).toBeTruthy();
  });
});

describe("alerts bell", () => {
  it("counts unread alerts, links to the runs and marks them read", async () => {
    let unread = 1;
    const calls = mockFetch((method, url) => {
      if (url === "/api/alerts/") {
        return {
          status: 200,
          body: {
            unread,
            alerts: [{ id: 1, kind: "failure_rate", key: "flow:7", flow_id: 7, title: { "pt-BR": "Fluxo Pedidos: 3 de 4 falharam", en: "Flow Pedidos: 3 of 4 failed" }, link: "/runs?flow=7&status=failed", read: unread === 0, opened_at: "2026-12-01T00:00:00Z", last_seen_at: "2026-12-01T00:00:00Z", resolved_at: null }],
          },
        };
      }
      if (method === "POST" && url === "/api/alerts/read/") {
        unread = 0;
        return { status: 200, body: { marked: 1 } };
      }
      return undefined;
    });
    render(<AlertsBell />);
    expect((await screen.findByTestId("alerts-unread")).textContent).toBe("1");
    fireEvent.click(screen.getByTestId("alerts-bell"));
    expect(screen.getByText("Fluxo Pedidos: 3 de 4 falharam")).toBeTruthy();
    expect(screen.getByTestId("alert-link").getAttribute("href")).toBe("/runs?flow=7&status=failed");
    fireEvent.click(screen.getByTestId("alerts-mark-read"));
    await waitFor(() => expect(screen.queryByTestId("alerts-unread")).toBeNull());
    expect(calls.some((call) => call.method === "POST" && call.url === "/api/alerts/read/")).toBe(true);
  });
});
