// Segments and campaigns API calls and shapes (messaging/api/campaigns.py).
import { api } from "./client";

export type Condition = Record<string, unknown> & { field: string; op: string };
export interface SegmentDefinition {
  match: "all" | "any";
  conditions: Condition[];
}
export interface Segment {
  id: number;
  name: string;
  definition: SegmentDefinition;
  created_at: string;
  updated_at: string;
}
export interface SampleContact {
  id: number;
  phone: string;
  name: string;
}
export interface CountResult {
  count: number;
  sample: SampleContact[];
}
export interface Campaign {
  id: number;
  name: string;
  channel: number | null;
  template: number | null;
  parameters: { source: string; value: string }[];
  segment: number | null;
  contact_import: number | null;
  scheduled_at: string | null;
  timezone: string;
  reply_flow_id: number | null;
  status: "draft" | "scheduled" | "running" | "paused" | "completed" | "cancelled";
  pause_reason: string;
  test_sent_at: string | null;
  template_name: string | null;
  template_category: string | null;
  channel_name: string | null;
  created_at: string;
}
export interface CampaignOptions {
  channels: { id: number; name: string; kind: string; paused: boolean }[];
  templates: { id: number; name: string; language: string; category: string; channel: number | null; parameter_count: number; body_text: string }[];
}
export interface Audience {
  total: number;
  included: number;
  in_window: number;
  excluded: Record<string, number>;
}
export interface Estimate {
  recipients: number;
  seconds: number;
  days: number;
  spreads_over_days: boolean;
  finishes_at: string;
  throughput: number;
  messaging_limit: number | null;
}
export interface CheckItem {
  code: string;
  field: string;
  message: string;
}
export interface Progress {
  status: Campaign["status"];
  pause_reason: string;
  counts: Record<string, number>;
  progress: number;
  rates: Record<string, number>;
  failures: { code: string; count: number; meaning: string }[];
  runs_started: number;
}
export interface RecipientRow {
  id: number;
  phone: string;
  name: string;
  status: string;
  reason: string;
  error_code: string;
  meaning: string;
  queued_at: string | null;
  sent_at: string | null;
  replied_at: string | null;
  run_id: number | null;
}

export const campaignsApi = {
  segments: () => api.get<Segment[]>("/api/segments/"),
  segment: (id: number) => api.get<Segment>(`/api/segments/${id}/`),
  saveSegment: (body: { name: string; definition: SegmentDefinition }, id?: number) =>
    id ? api.patch<Segment>(`/api/segments/${id}/`, body) : api.post<Segment>("/api/segments/", body),
  count: (definition: SegmentDefinition) => api.post<CountResult>("/api/segments/count/", { definition }),
  campaigns: () => api.get<Campaign[]>("/api/campaigns/"),
  campaign: (id: number) => api.get<Campaign>(`/api/campaigns/${id}/`),
  options: () => api.get<CampaignOptions>("/api/campaigns/options/"),
  saveCampaign: (body: Partial<Campaign>, id?: number) =>
    id ? api.patch<Campaign>(`/api/campaigns/${id}/`, body) : api.post<Campaign>("/api/campaigns/", body),
  check: (id: number) => api.get<{ errors: CheckItem[]; warnings: CheckItem[] }>(`/api/campaigns/${id}/check/`),
  preview: (id: number) => api.get<{ samples: { contact: SampleContact; text: string }[] }>(`/api/campaigns/${id}/preview/`),
  estimate: (id: number) => api.get<{ audience: Audience; estimate: Estimate }>(`/api/campaigns/${id}/estimate/`),
  testSend: (id: number, phone: string) => api.post<{ message_id: number; text: string }>(`/api/campaigns/${id}/test-send/`, { phone }),
  progress: (id: number) => api.get<Progress>(`/api/campaigns/${id}/progress/`),
  recipients: (id: number, query: string) => api.get<{ results: RecipientRow[]; count: number }>(`/api/campaigns/${id}/recipients/?${query}`),
  act: (id: number, verb: "start" | "pause" | "resume" | "cancel") => api.post<Campaign>(`/api/campaigns/${id}/${verb}/`),
};
