// The Runs, dashboard, path-count and alert endpoints (flows/api/runs.py, flows/api/dashboard.py).
import { api } from "./client";
import type { FlowDefinition, Labels, RunStep } from "./types";

export type RunStatus = "active" | "waiting" | "completed" | "failed" | "cancelled" | "expired";
export const RUN_STATUSES: RunStatus[] = ["active", "waiting", "completed", "failed", "cancelled", "expired"];

export interface RunRow {
  id: number;
  flow: { id: number; name: string };
  revision: number;
  contact: { id: number; phone: string; name: string };
  status: RunStatus;
  current_node: string;
  wait_kind: string;
  wake_at: string | null;
  is_test: boolean;
  step_count: number;
  end_reason: string;
  started_at: string;
  ended_at: string | null;
}

export interface RunPage {
  next: string | null;
  previous: string | null;
  results: RunRow[];
}

export interface RunFilters {
  flow?: number;
  status?: RunStatus[];
  since?: string;
  until?: string;
  contact?: string;
  has_error?: boolean;
  q?: string;
  tests?: boolean;
}

export interface RunMessage {
  id: number;
  direction: "in" | "out";
  kind: string;
  content: Record<string, unknown>;
  status: string;
  error: string;
  error_code: string;
  attempts: number;
  created_at: string;
  sent_at: string | null;
  delivered_at: string | null;
  read_at: string | null;
}

export interface RunActionRecord {
  id: number;
  run_id: number;
  action: "cancel" | "retry" | "restart";
  state: "pending" | "done" | "ignored" | "failed";
  result: string;
  requested_by: string | null;
  requested_at: string;
  applied_at: string | null;
  new_run: number | null;
  batch: number | null;
}

export interface RunStepDetail extends RunStep {
  id: number;
}

export interface RunDetail {
  id: number;
  status: RunStatus;
  is_test: boolean;
  current_node: string;
  wait_kind: string;
  wake_at: string | null;
  end_reason: string;
  started_at: string;
  ended_at: string | null;
  step_count: number;
  flow: { id: number; name: string; published_revision: number | null };
  revision: { id: number; revision: number; definition: FlowDefinition };
  contact: { id: number; phone: string; name: string };
  parent_run: number | null;
  child_runs: { id: number; status: RunStatus; flow_id: number }[];
  vars: Record<string, unknown>;
  trigger: Record<string, unknown>;
  context: Record<string, unknown>;
  trigger_event: { id: number; kind: string; payload: Record<string, unknown>; received_at: string; state: string } | null;
  steps: RunStepDetail[];
  messages: RunMessage[];
  actions: RunActionRecord[];
}

export interface Batch {
  id: number;
  action: string;
  total: number;
  recorded: number;
  states: Record<string, number>;
  finished_at: string | null;
}

export interface SeriesPoint {
  at: string;
  "runs.started": number;
  "runs.completed": number;
  "runs.failed": number;
  "runs.expired": number;
  "msg.sent": number;
  "msg.delivered": number;
  "msg.read": number;
  "msg.failed": number;
}

export interface Ranked {
  key: string;
  count: number;
}

export interface ChannelState {
  id: number;
  name: string;
  kind: string;
  paused: boolean;
  paused_at: string | null;
  pause_reason: string;
  quality_rating: string;
  messaging_limit_tier: string;
  health_checked_at: string | null;
}

export interface MessageRates {
  "msg.sent"?: number;
  "msg.delivered"?: number;
  "msg.read"?: number;
  "msg.failed"?: number;
  delivery_rate: number | null;
  read_rate: number | null;
}

export interface Dashboard {
  since: string;
  until: string;
  flow_id: number | null;
  step: "hour" | "day";
  runs: { started: number; completed: number; failed: number; expired: number; cancelled: number; failure_rate: number | null; actions: Record<string, number> };
  series: SeriesPoint[];
  failure_reasons: Ranked[];
  http: { host: string; calls: number; errors: number; timeouts: number }[];
  ai: { calls: number; failures: number; by_code: Ranked[]; handoffs: number; handoffs_by_team: Ranked[] };
  graph_errors: { code: string; request: number; status: number; total: number; reason: string | null }[];
  messages: { sent: number; delivered: number; read: number; failed: number; delivery_rate: number | null; read_rate: number | null; replies: number };
  reply_time: { median_seconds: number | null; p90_seconds: number | null; answered: number };
  flows: ({ flow_id: number; name: string; "runs.started"?: number; "runs.completed"?: number; "runs.failed"?: number } & MessageRates)[];
  templates: ({ template: string } & MessageRates)[];
  gauges: { runs_waiting: number; runs_active: number; timers_overdue: number; timers_lateness_seconds: number; events_pending: number; messages_queued: number };
  channels: ChannelState[];
  updated_at: string | null;
}

export interface NodeCounts {
  entered: number;
  errors: number;
  ports: Record<string, number>;
  ended: Record<string, number>;
}

export interface PathCounts {
  flow_id: number;
  since: string;
  until: string;
  nodes: Record<string, NodeCounts>;
  updated_at: string | null;
}

export interface AlertItem {
  id: number;
  kind: string;
  key: string;
  flow_id: number | null;
  title: Labels;
  link: string;
  read: boolean;
  opened_at: string;
  last_seen_at: string;
  resolved_at: string | null;
}

export interface AlertSettingsData {
  flow: number | null;
  inherited?: boolean;
  failure_rate_enabled: boolean;
  failure_rate_threshold: number;
  failure_min_runs: number;
  notify_channel: "" | "email" | "slack" | "webhook";
  notify_team: string;
  notify_to: string[];
  notify_subscription: string;
  notify_credential: string;
}

/** The filters as the API's query string (also what the Runs page keeps in its URL). */
export function filtersToQuery(filters: RunFilters): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.flow) query.set("flow", String(filters.flow));
  if (filters.status?.length) query.set("status", filters.status.join(","));
  if (filters.since) query.set("since", filters.since);
  if (filters.until) query.set("until", filters.until);
  if (filters.contact) query.set("contact", filters.contact);
  if (filters.has_error) query.set("has_error", "true");
  if (filters.q) query.set("q", filters.q);
  if (filters.tests) query.set("tests", "true");
  return query;
}

export function filtersFromQuery(search: string): RunFilters {
  const query = new URLSearchParams(search);
  const flow = Number(query.get("flow"));
  const status = (query.get("status") ?? "").split(",").filter((value): value is RunStatus => RUN_STATUSES.includes(value as RunStatus));
  return {
    flow: Number.isFinite(flow) && flow > 0 ? flow : undefined,
    status: status.length ? status : undefined,
    since: query.get("since") ?? undefined,
    until: query.get("until") ?? undefined,
    contact: query.get("contact") ?? undefined,
    has_error: query.get("has_error") === "true" || undefined,
    q: query.get("q") ?? undefined,
    tests: query.get("tests") === "true" || undefined,
  };
}

function period(since?: string, until?: string, flow?: number): string {
  const query = new URLSearchParams();
  if (since) query.set("since", since);
  if (until) query.set("until", until);
  if (flow) query.set("flow", String(flow));
  return query.toString();
}

export const runsApi = {
  list: (filters: RunFilters, cursorUrl?: string) =>
    api.get<RunPage>(cursorUrl ?? `/api/runs/?${filtersToQuery(filters).toString()}`),
  detail: (id: number) => api.get<RunDetail>(`/api/runs/${id}/`),
  act: (id: number, action: "cancel" | "retry" | "restart", usePublished = true) =>
    api.post<RunActionRecord>(`/api/runs/${id}/${action}/`, { use_published: usePublished }),
  bulk: (action: "cancel" | "retry" | "restart", filters: RunFilters, dryRun = false) =>
    api.post<Batch>("/api/runs/bulk/", { action, filters: Object.fromEntries(filtersToQuery(filters)), dry_run: dryRun }),
  batch: (id: number) => api.get<Batch>(`/api/runs/batches/${id}/`),
  dashboard: (since?: string, until?: string, flow?: number) => api.get<Dashboard>(`/api/dashboard/?${period(since, until, flow)}`),
  pathCounts: (flowId: number, since?: string, until?: string) =>
    api.get<PathCounts>(`/api/flows/${flowId}/path-counts/?${period(since, until)}`),
  alerts: () => api.get<{ unread: number; alerts: AlertItem[] }>("/api/alerts/"),
  markAlertsRead: (ids?: number[]) => api.post<{ marked: number }>("/api/alerts/read/", ids ? { ids } : {}),
  flowAlertSettings: (flowId: number) => api.get<AlertSettingsData>(`/api/flows/${flowId}/alert-settings/`),
  saveFlowAlertSettings: (flowId: number, data: Partial<AlertSettingsData>) =>
    api.patch<AlertSettingsData>(`/api/flows/${flowId}/alert-settings/`, data),
};

/** "since" for a named period, as ISO (undefined: all time). */
export function periodSince(name: string, now = new Date()): string | undefined {
  const hours = { "24h": 24, "7d": 24 * 7, "30d": 24 * 30 }[name];
  return hours ? new Date(now.getTime() - hours * 3600 * 1000).toISOString() : undefined;
}
