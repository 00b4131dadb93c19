// The workspace pages' API calls and shapes (channels, templates, contacts, integrations, teams,
// assistants, users). Kept apart from endpoints.ts, which serves the flow editor.
import { api } from "./client";
import type { Role, WhatsAppTemplate } from "./types";

export interface ChannelSummary {
  id: number;
  kind: "whatsapp_cloud" | "sandbox";
  name: string;
  is_active: boolean;
  paused: boolean;
  pause_reason: string;
  created_at: string;
  phone_number_id?: string;
  waba_id?: string;
  display_phone_number?: string;
  graph_api_base_url?: string;
  graph_api_version?: string;
  messages_per_second?: number;
  access_token_set?: boolean;
  app_secret_set?: boolean;
  access_token_masked?: string;
  read_receipts?: boolean;
  typing_indicator?: boolean;
}

export interface ChannelHealth extends ChannelSummary {
  callback_url: string;
  /** The verify token is write-only: only its mask comes back (it is shown once, at connect). */
  verify_token_masked?: string;
  verified_name?: string;
  quality_rating?: string;
  messaging_limit_tier?: string;
  throughput_level?: string;
  checked_at?: string | null;
  check_error?: string;
  app_secret_masked?: string;
  paused_at: string | null;
  template_count: number;
  webhooks: { count: number; last_received_at: string | null; last_error: string; unknown_channel_at: string | null };
  alerts: { id: number; code: string; message: string; created_at: string }[];
}

export interface GraphCheck {
  ok: boolean;
  error: string;
  code: string;
  info: {
    display_phone_number?: string;
    verified_name?: string;
    quality_rating?: string;
    messaging_limit_tier?: string;
    throughput_level?: string;
  };
}

export interface ChannelInput {
  kind: "whatsapp_cloud";
  name: string;
  phone_number_id: string;
  waba_id: string;
  display_phone_number?: string;
  access_token: string;
  app_secret: string;
  verify_token: string;
  graph_api_base_url?: string;
  graph_api_version?: string;
}

export interface Template extends WhatsAppTemplate {
  channel: number | null;
  synced_at: string | null;
}

export interface ConsentEntry {
  id: number;
  category: string;
  state: string;
  source: string;
  at: string;
  note: string;
  actor: string | null;
  message: { id: number; text: string; at: string } | null;
  import: { id: number; filename: string } | null;
}

export interface Contact {
  id: number;
  phone: string;
  name: string;
  channel: number | null;
  attributes: Record<string, unknown>;
  consent: Record<string, { state: string; at: string; source: string }>;
  tags: string[];
  last_inbound_at: string | null;
  in_service_window: boolean;
  is_test: boolean;
  created_at: string;
}

export interface ContactMessage {
  id: number;
  direction: "in" | "out";
  kind: string;
  status: string;
  at: string;
  text: string;
  template?: string;
  error: string;
  error_code: string;
  run: number | null;
  conversation: number | null;
}

export interface ContactDetail extends Contact {
  updated_at: string;
  channel_name: string | null;
  consent_history: ConsentEntry[];
  conversations: { id: number; state: string; channel: string | null; team: string | null; opened_at: string; closed_at: string | null; messages: number }[];
  messages: ContactMessage[];
}

export interface RunSummary {
  id: number;
  flow: { id: number; name: string };
  status: string;
  started_at: string;
  ended_at: string | null;
  end_reason?: string;
}

export interface ImportMapping {
  phone: string;
  name?: string;
  tags?: string;
  consent?: string;
  attributes: string[];
}

export interface ImportOptions {
  mapping: ImportMapping;
  default_region: string;
  consent_category: string;
  extra_tag?: string;
  skip_invalid?: boolean;
}

export interface ImportState {
  id: number;
  filename: string;
  status: "uploaded" | "queued" | "running" | "done" | "failed";
  row_count: number;
  created: number;
  updated: number;
  skipped: number;
  error: string;
  progress: { processed: number; total: number };
}

export interface ImportUpload extends ImportState {
  columns: string[];
  sample: Record<string, string>[];
  suggested_mapping: Partial<ImportMapping>;
}

export interface BadRow {
  line: number;
  phone: string;
  code: string;
  reason: string;
}

export interface DryRun {
  total: number;
  valid: number;
  invalid: number;
  create: number;
  update: number;
  bad_rows: BadRow[];
}

export interface ApiIntegration {
  id: number;
  name: string;
  key_prefix: string;
  is_active: boolean;
  last_used_at: string | null;
  created_at: string;
  api_key?: string;
}

export interface ApiCall {
  id: number;
  event: string;
  state: string;
  error: string;
  contact: string | null;
  received_at: string;
  runs: { id: number; flow: string; status: string }[];
}

export interface WebhookSubscription {
  id: number;
  name: string;
  url: string;
  event_types: string[];
  is_active: boolean;
  consecutive_failures: number;
  disabled_at: string | null;
  disabled_reason: string;
  created_at: string;
  secret?: string;
}

export interface WebhookDelivery {
  id: number;
  subscription: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string;
  created_at: string;
  delivered_at: string | null;
}

export interface Credential {
  id: number;
  name: string;
  kind: string;
  secret_masked: string;
  username: string;
  header_name: string;
  query_param: string;
  base_url: string;
  description: string;
  last_used_at: string | null;
  updated_at: string;
}

export interface Team {
  id: number;
  name: string;
  priority: number;
  timezone: string;
  business_hours: Record<string, [string, string][]>;
  holidays: string[];
  holiday_country: string;
  holiday_subdivision: string;
  notify_email: string;
  members: number[];
  member_names: string[];
}

export interface KnowledgeEntry {
  id: number;
  question: string;
  answer: string;
  keywords: string;
  is_active: boolean;
}

export interface Assistant {
  id: number;
  name: string;
  instructions: string;
  provider: string;
  model: string;
  credential: string | null;
  base_url: string;
  temperature: number;
  max_tokens: number;
  timeout_seconds: number;
  confidence_threshold: number;
  knowledge: KnowledgeEntry[];
}

export interface AskResult {
  text: string;
  confidence: number | null;
  provider: string;
  model?: string;
  source?: string;
  latency_ms?: number;
}

export interface Person {
  id: number;
  username: string;
  first_name: string;
  email: string;
  role: Role;
  is_active: boolean;
  last_login: string | null;
  has_password: boolean;
  invite_link?: string;
}

const query = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => [k, String(v)])).toString();

export interface MediaFile {
  id: number;
  name: string;
  filename: string;
  kind: "image" | "audio" | "video" | "document" | "sticker";
  mime_type: string;
  size: number | null;
  sha256: string;
  status: string;
  created_at: string;
  url: string;
  preview_url: string;
  download_url: string;
  used_in?: { flow: number; name: string; nodes: string[]; published: boolean }[];
}

export const ws = {
  media: (params: Record<string, string | number | undefined> = {}) => api.get<MediaFile[]>(`/api/media/?${query(params)}`),
  mediaFile: (id: number) => api.get<MediaFile>(`/api/media/${id}/`),
  uploadMedia: (file: File, name = "") => {
    const form = new FormData();
    form.append("file", file);
    if (name) form.append("name", name);
    return api.upload<MediaFile>("/api/media/", form);
  },
  renameMedia: (id: number, name: string) => api.patch<MediaFile>(`/api/media/${id}/`, { name }),
  deleteMedia: (id: number, force = false) => api.delete<void>(`/api/media/${id}/${force ? "?force=1" : ""}`),

  channels: () => api.get<ChannelSummary[]>("/api/channels/"),
  channelHealth: (id: number) => api.get<ChannelHealth>(`/api/channels/${id}/health/`),
  channelUpdate: (id: number, changes: Record<string, unknown>) => api.patch<ChannelHealth>(`/api/channels/${id}/health/`, changes),
  connectInfo: () => api.get<{ callback_url: string; verify_token: string }>("/api/channels/connect-info/"),
  graphCheck: (body: { phone_number_id: string; access_token: string; graph_api_base_url?: string; graph_api_version?: string }) =>
    api.post<GraphCheck>("/api/channels/check/", body),
  createChannel: (body: ChannelInput) => api.post<ChannelSummary>("/api/channels/", body),
  checkChannel: (id: number) => api.post<GraphCheck & { channel: ChannelHealth }>(`/api/channels/${id}/check/`),
  resumeChannel: (id: number) => api.post<{ requeued: number; channel: ChannelHealth }>(`/api/channels/${id}/resume/`),
  syncChannel: (id: number) => api.post<{ created: number; updated: number; disabled: number }>(`/api/channels/${id}/sync-templates/`),

  templates: () => api.get<Template[]>("/api/templates/"),
  syncTemplates: () => api.post<{ channels: { channel: string; ok: boolean; created?: number; updated?: number; disabled?: number; error?: string }[] }>("/api/templates/sync/"),

  contacts: (params: Record<string, string | number | undefined>) => api.get<Contact[]>(`/api/contacts/?${query(params)}`),
  contactCount: async (params: Record<string, string | number | undefined>) => {
    const response = await fetch(`/api/contacts/?${query({ ...params, limit: 1 })}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
    return Number(response.headers.get("X-Total-Count") ?? 0);
  },
  exportUrl: (params: Record<string, string | number | undefined>) => `/api/contacts/export/?${query(params)}`,
  contact: (id: number) => api.get<ContactDetail>(`/api/contacts/${id}/`),
  updateContact: (id: number, changes: { name?: string; attributes?: Record<string, unknown>; tags?: string[] }) =>
    api.patch<ContactDetail>(`/api/contacts/${id}/`, changes),
  optOut: (id: number, categories: string[], note: string) => api.post<ContactDetail>(`/api/contacts/${id}/opt-out/`, { categories, note }),
  tags: () => api.get<{ name: string }[]>("/api/contacts/tags/"),
  // /api/runs/ answers cursor pages; the contact page shows the newest ones.
  contactRuns: (phone: string) =>
    api.get<{ results: RunSummary[] }>(`/api/runs/?${query({ contact: phone })}`).then((page) => page.results),
  uploadImport: (content: string, filename: string) => api.post<ImportUpload>("/api/contacts/imports/", { content, filename }),
  dryRun: (id: number, options: ImportOptions) => api.post<DryRun>(`/api/contacts/imports/${id}/dry-run/`, options),
  runImport: (id: number, options: ImportOptions) => api.post<ImportState>(`/api/contacts/imports/${id}/run/`, options),
  importState: (id: number) => api.get<ImportState>(`/api/contacts/imports/${id}/`),

  integrations: () => api.get<ApiIntegration[]>("/api/api-integrations/"),
  createIntegration: (name: string) => api.post<ApiIntegration>("/api/api-integrations/", { name }),
  rotateKey: (id: number) => api.post<ApiIntegration>(`/api/api-integrations/${id}/rotate-key/`),
  revokeKey: (id: number) => api.post<ApiIntegration>(`/api/api-integrations/${id}/revoke/`),
  calls: (id: number) => api.get<{ calls: ApiCall[] }>(`/api/api-integrations/${id}/calls/`),
  subscriptions: () => api.get<WebhookSubscription[]>("/api/webhooks/subscriptions/"),
  createSubscription: (body: { name: string; url: string; event_types: string[] }) => api.post<WebhookSubscription>("/api/webhooks/subscriptions/", body),
  deleteSubscription: (id: number) => api.delete<null>(`/api/webhooks/subscriptions/${id}/`),
  enableSubscription: (id: number) => api.post<WebhookSubscription>(`/api/webhooks/subscriptions/${id}/enable/`),
  deliveries: (subscription?: number) => api.get<WebhookDelivery[]>(`/api/webhooks/deliveries/?${query({ subscription })}`),
  redeliver: (id: number) => api.post<WebhookDelivery>(`/api/webhooks/deliveries/${id}/redeliver/`),
  credentials: () => api.get<Credential[]>("/api/credentials/"),
  createCredential: (body: Record<string, unknown>) => api.post<Credential>("/api/credentials/", body),
  updateCredential: (id: number, body: Record<string, unknown>) => api.patch<Credential>(`/api/credentials/${id}/`, body),
  deleteCredential: (id: number) => api.delete<null>(`/api/credentials/${id}/`),

  teams: () => api.get<Team[]>("/api/teams/"),
  saveTeam: (team: Partial<Team>) => (team.id ? api.patch<Team>(`/api/teams/${team.id}/`, team) : api.post<Team>("/api/teams/", team)),
  deleteTeam: (id: number) => api.delete<null>(`/api/teams/${id}/`),
  people: () => api.get<{ id: number; username: string; name: string }[]>("/api/teams/people/"),
  holidays: (country: string, subdivision: string, year: number) =>
    api.get<{ holidays: { date: string; name: string }[]; subdivisions: string[]; countries: string[] }>(`/api/holidays/?${query({ country, subdivision, year })}`),

  assistants: () => api.get<Assistant[]>("/api/assistants/"),
  assistant: (id: number) => api.get<Assistant>(`/api/assistants/${id}/`),
  saveAssistant: (assistant: Partial<Assistant>) =>
    assistant.id ? api.patch<Assistant>(`/api/assistants/${assistant.id}/`, assistant) : api.post<Assistant>("/api/assistants/", assistant),
  addKnowledge: (id: number, entry: Partial<KnowledgeEntry>) => api.post<KnowledgeEntry>(`/api/assistants/${id}/knowledge/`, entry),
  updateKnowledge: (id: number, entry: Partial<KnowledgeEntry>) => api.patch<KnowledgeEntry>(`/api/knowledge-entries/${id}/`, entry),
  deleteKnowledge: (id: number) => api.delete<null>(`/api/knowledge-entries/${id}/`),
  importKnowledge: (id: number, content: string) => api.post<{ created: number }>(`/api/assistants/${id}/knowledge/import/`, { content }),
  ask: (id: number, text: string) => api.post<AskResult>(`/api/assistants/${id}/ask/`, { text }),

  users: () => api.get<Person[]>("/api/users/"),
  createUser: (body: Record<string, unknown>) => api.post<Person>("/api/users/", body),
  updateUser: (id: number, changes: Record<string, unknown>) => api.patch<Person>(`/api/users/${id}/`, changes),
};
