import { api } from "./client";
import type {
  FlowDefinition,
  FlowDetail,
  FlowSummary,
  Language,
  NodeTypeSpec,
  DefinitionDiff,
  RevisionSummary,
  Session,
  TestContact,
  TestRun,
  ValidationResult,
  WhatsAppTemplate,
} from "./types";

export interface ExportDocument {
  fluxo_export: 1;
  name: string;
  description: string;
  definition: FlowDefinition;
}

export interface CreatedRevision extends RevisionSummary {
  definition?: FlowDefinition;
}

export interface SaveOptions {
  keepalive?: boolean;
  session?: string;
  baseSaves?: number | null;
  checkpoint?: boolean;
  comment?: string;
}

export type ReplyKind = "button" | "list" | "quick_reply";
export type InboundMessage = { text: string } | { reply_id: string; reply_title: string; reply_kind?: ReplyKind };

const flowUrl = (id: number) => `/api/flows/${id}/`;

export const endpoints = {
  session: () => api.get<Session>("/api/auth/session/"),
  login: (username: string, password: string) => api.post<Session>("/api/auth/login/", { username, password }),
  logout: () => api.post<null>("/api/auth/logout/"),
  saveLanguage: (language: Language) => api.patch<Session>("/api/auth/session/", { language }),

  nodeTypes: () => api.get<NodeTypeSpec[]>("/api/node-types/"),
  templates: () => api.get<WhatsAppTemplate[]>("/api/templates/?status=APPROVED"),

  flows: (search = "", status = "") =>
    api.get<FlowSummary[]>(`/api/flows/?${new URLSearchParams({ search, status }).toString()}`),
  createFlow: (name: string, description = "", definition?: FlowDefinition) =>
    api.post<FlowSummary>("/api/flows/", definition ? { name, description, definition } : { name, description }),
  flow: (id: number) => api.get<FlowDetail>(flowUrl(id)),
  renameFlow: (id: number, changes: { name?: string; description?: string }) =>
    api.patch<FlowSummary>(flowUrl(id), changes),
  archive: (id: number) => api.post<FlowSummary>(`${flowUrl(id)}archive/`),
  unarchive: (id: number) => api.post<FlowSummary>(`${flowUrl(id)}unarchive/`),
  duplicate: (id: number) => api.post<FlowSummary>(`${flowUrl(id)}duplicate/`),
  exportFlow: (id: number) => api.get<ExportDocument>(`${flowUrl(id)}export/`),
  importFlow: (document: ExportDocument) => api.post<FlowSummary>("/api/flows/import/", document),

  revisions: (id: number) => api.get<RevisionSummary[]>(`${flowUrl(id)}revisions/`),
  saveRevision: (id: number, definition: FlowDefinition, baseRevision: number | null, options: SaveOptions = {}) =>
    api.post<CreatedRevision>(
      `${flowUrl(id)}revisions/`,
      {
        definition,
        base_revision: baseRevision,
        ...(options.session ? { session: options.session, base_saves: options.baseSaves ?? null } : {}),
        ...(options.checkpoint ? { checkpoint: true } : {}),
        ...(options.comment ? { comment: options.comment } : {}),
      },
      { keepalive: options.keepalive },
    ),
  restoreRevision: (id: number, revision: number, baseRevision: number | null) =>
    api.post<CreatedRevision>(`${flowUrl(id)}revisions/${revision}/restore/`, { base_revision: baseRevision }),
  revision: (id: number, revision: number, compare?: number) =>
    api.get<CreatedRevision & { definition: FlowDefinition; diff_full: DefinitionDiff; compared_with: number | null }>(
      `${flowUrl(id)}revisions/${revision}/${compare ? `?compare=${compare}` : ""}`,
    ),
  validate: (id: number, definition: FlowDefinition) =>
    api.post<ValidationResult>(`${flowUrl(id)}validate/`, { definition }),
  publish: (id: number, revision: number, comment: string, confirm: { acceptWarnings?: boolean; decisions?: Record<string, "allow" | "replace"> } = {}) =>
    api.post<FlowDetail>(`${flowUrl(id)}publish/`, {
      revision,
      comment,
      accept_warnings: Boolean(confirm.acceptWarnings),
      decisions: confirm.decisions ?? {},
    }),

  startTestRun: (id: number, revision?: number, payload?: Record<string, unknown>, contactId?: number) =>
    api.post<TestRun>(`${flowUrl(id)}test-runs/`, {
      ...(revision !== undefined ? { revision } : {}),
      ...(payload !== undefined ? { payload } : {}),
      ...(contactId !== undefined ? { contact_id: contactId } : {}),
    }),
  testRun: (runId: number) => api.get<TestRun>(`/api/test-runs/${runId}/`),
  sendInbound: (runId: number, message: InboundMessage) => api.post<unknown>(`/api/test-runs/${runId}/inbound/`, message),
  sendInboundFile: (runId: number, file: File, caption = "") => {
    const form = new FormData();
    form.append("file", file);
    form.append("caption", caption);
    return api.upload<unknown>(`/api/test-runs/${runId}/inbound-file/`, form);
  },
  testContacts: () => api.get<TestContact[]>("/api/test-contacts/"),
  createTestContact: (contact: Partial<Omit<TestContact, "id">>) => api.post<TestContact>("/api/test-contacts/", contact),
  updateTestContact: (id: number, changes: Partial<Omit<TestContact, "id" | "phone">>) =>
    api.patch<TestContact>(`/api/test-contacts/${id}/`, changes),
  fastForward: (runId: number) => api.post<unknown>(`/api/test-runs/${runId}/fast-forward/`),
  stopTestRun: (runId: number) => api.post<unknown>(`/api/test-runs/${runId}/stop/`),
};
