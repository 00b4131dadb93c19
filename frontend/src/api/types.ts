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

/** The rule that makes ports from a config array (branch conditions), served as data. */
export interface DynamicPorts {
  from: string;
  key: string;
  label: string;
  default: string;
  default_label_from?: string;
  default_label: Labels;
}

/** Editor facts about one config field (GET /api/node-types/ → fields[path]). */
export interface FieldFacts {
  title: Labels;
  help?: Labels;
  enum_labels?: Record<string, Labels>;
  placeholder?: string;
  widget?: "multiline" | "time" | "plain" | string;
  visible_when?: Record<string, unknown>;
  required_message?: Labels;
  hidden?: boolean;
}

export interface OperatorSpec {
  key: string;
  label: Labels;
  needs_left: boolean;
  needs_right: boolean;
  numeric: boolean;
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
  category_info: { key: string; label: Labels; order: number };
  icon: string;
  glyph: string;
  config_schema: JsonSchema;
  default_config: Record<string, unknown>;
  ports: PortSpec[];
  dynamic_ports: DynamicPorts | null;
  fields: Record<string, FieldFacts>;
  summary: string[];
  operators?: OperatorSpec[];
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
  name?: string;
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
  author_id?: number | null;
  comment: string;
  created_at: string;
  saves?: number;
  sealed?: boolean;
}

export interface FlowDetail extends FlowSummary {
  draft: DraftRevision | null;
}

export interface DiffCounts {
  added: number;
  removed: number;
  changed: number;
  moved: number;
  connections: number;
}

export interface DiffNode {
  id: string;
  type: string;
  name: string | Labels;
  fields?: string[];
}

export interface DefinitionDiff {
  added: DiffNode[];
  removed: DiffNode[];
  changed: DiffNode[];
  moved: number;
  edges_added: [string, string, string][];
  edges_removed: [string, string, string][];
}

export interface RevisionSummary {
  revision: number;
  spec_version: number;
  author: string | null;
  author_id?: number | null;
  comment: string;
  created_at: string;
  updated_at?: string | null;
  saves?: number;
  sealed?: boolean;
  session?: string;
  is_published: boolean;
  publications?: { comment: string; by: string | null; at: string; warnings: number }[];
  diff?: DiffCounts | null;
}

export interface ValidationError {
  code: string;
  node_id: string | null;
  field: string | null;
  message: Labels;
  severity?: "error" | "warning";
  params?: Record<string, unknown>;
}

export interface VariableInfo {
  label?: Labels;
  type?: string;
  sample?: string;
  source?: string;
  source_name?: string | Labels;
}

export interface SameEventConflict {
  flow_id: number;
  flow_name: string;
  event: string;
  event_name: string;
  node_id: string;
  event_label: Labels;
}

export interface ValidationResult {
  valid: boolean;
  errors: ValidationError[];
  warnings?: ValidationError[];
  scope: Record<string, string[]>;
  variables?: Record<string, VariableInfo>;
  conflicts?: SameEventConflict[];
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

export interface ChatMedia {
  type: "image" | "audio" | "video" | "document" | "sticker";
  url: string;
  mime_type?: string;
  filename?: string;
  size?: number | null;
  caption?: string;
  status?: string;
}

export interface ChatMessage {
  id: number | string;
  direction: "in" | "out";
  kind: string;
  content: Record<string, unknown>;
  status: string;
  created_at: string;
  /** The message's file (a signed Fluxo link), for media messages and template header media. */
  media?: ChatMedia | null;
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
  end_reason?: string;
}

export interface TestContact {
  id: number;
  phone: string;
  name: string;
  attributes: Record<string, unknown>;
  opted_in: boolean;
}

export interface TestRun {
  id: number;
  flow?: number;
  revision?: number;
  status: string;
  contact?: TestContact;
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
