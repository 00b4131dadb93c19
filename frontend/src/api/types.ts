// Shapes of the Fluxo HTTP API (see flows/api/). Kept in one place so mocks and views agree.

export type Language = "pt-BR" | "en";
export type Labels = Record<Language, string>;
export type Role = "viewer" | "editor" | "admin";

export interface User {
  id: number;
  username: string;
  first_name: string;
  language: Language;
  roles: Role[];
  /** May open the Django admin. */
  is_staff?: boolean;
}

export interface Session {
  authenticated: boolean;
  user: User | null;
}

export interface PortSpec {
  key: string;
  label: Labels;
}

export interface DynamicPorts {
  from: string;
  key: string;
  label: string;
  default: string;
}

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  required?: string[];
  default?: unknown;
  title?: string;
  description?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  pattern?: string;
  [extra: string]: unknown;
};

export interface NodeTypeSpec {
  key: string;
  label: Labels;
  description: Labels;
  category: string;
  icon: string;
  config_schema: JsonSchema;
  default_config: Record<string, unknown>;
  ports: PortSpec[];
  dynamic_ports: DynamicPorts | null;
  is_trigger: boolean;
  can_pause: boolean;
}

export type Config = Record<string, unknown>;

export interface Position {
  x: number;
  y: number;
}

export interface Note {
  id: string;
  text: string;
  position: Position;
  size?: { w: number; h: number };
}

export interface DefinitionNode {
  id: string;
  type: string;
  config: Config;
}

export interface DefinitionEdge {
  id: string;
  source: string;
  source_port: string;
  target: string;
}

export interface FlowDefinition {
  spec_version: number;
  nodes: DefinitionNode[];
  edges: DefinitionEdge[];
  ui?: {
    nodes?: Record<string, { position: Position }>;
    notes?: Note[];
    viewport?: { x: number; y: number; zoom: number };
  };
}

export type FlowStatus = "draft" | "active" | "archived";

export interface RunCounts {
  active: number;
  waiting: number;
  completed: number;
  failed: number;
  total: number;
}

export interface FlowSummary {
  id: number;
  name: string;
  description: string;
  status: FlowStatus;
  published_revision: number | null;
  published_at: string | null;
  latest_revision: number | null;
  updated_at: string;
  run_counts: RunCounts;
}

export interface DraftRevision {
  revision: number;
  spec_version: number;
  definition: FlowDefinition;
  author: string | null;
  comment: string;
  created_at: string;
}

export interface FlowDetail extends FlowSummary {
  draft: DraftRevision | null;
}

export interface RevisionSummary {
  revision: number;
  spec_version: number;
  author: string | null;
  comment: string;
  created_at: string;
  is_published: boolean;
}

export interface ValidationError {
  code: string;
  node_id: string | null;
  field: string | null;
  message: Labels;
}

export interface ValidationResult {
  valid: boolean;
  errors: ValidationError[];
  scope: Record<string, string[]>;
}

export interface WhatsAppTemplate {
  id: number;
  name: string;
  language: string;
  category: string;
  status: string;
  parameter_count: number;
  body_text: string;
  components: unknown[];
}

export interface ChatMessage {
  id: number | string;
  direction: "in" | "out";
  kind: string;
  content: Record<string, unknown>;
  status: string;
  created_at: string;
}

export interface RunStep {
  seq: number;
  node_id: string;
  node_type: string;
  port: string | null;
  outcome: string;
  input: unknown;
  output: unknown;
  error: unknown;
  started_at: string;
  duration_us: number | null;
}

export interface RunState {
  id: number;
  status: string;
  current_node: string | null;
  context: Record<string, unknown>;
  wake_at: string | null;
  wait_kind: string | null;
}

export interface TestRun {
  id: number;
  flow?: number;
  revision?: number;
  status: string;
  contact?: { phone: string; name: string };
  ws_url?: string;
  run: RunState | null;
  messages: ChatMessage[];
  steps: RunStep[];
}

export type TestRunEvent =
  | ({ type: "snapshot" } & TestRun)
  | { type: "step"; step: RunStep }
  | { type: "message"; message: ChatMessage }
  | { type: "run"; run: RunState };
