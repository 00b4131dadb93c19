// Turns a test run's steps into canvas highlight: the active node, the nodes visited and the
// edges taken (an edge is taken when a step left its source through its port).
import type { ChatMessage, RunState, RunStep, TestRun, TestRunEvent } from "../api/types";
import type { GraphEdge } from "./graph";

/** Run statuses after which nothing more happens (FlowRun.Status minus active/waiting). */
export const FINISHED_RUN_STATUSES = ["completed", "failed", "cancelled", "expired"];

export interface Trace {
  activeNodeId: string | null;
  takenEdgeIds: string[];
  visitedNodeIds: string[];
}

export function traceFromRun(steps: RunStep[], edges: GraphEdge[], run: RunState | null): Trace {
  const ordered = [...steps].sort((a, b) => a.seq - b.seq);
  const taken: string[] = [];
  for (const step of ordered) {
    if (!step.port) continue;
    const edge = edges.find((candidate) => candidate.source === step.node_id && (candidate.sourceHandle ?? "next") === step.port);
    if (edge && !taken.includes(edge.id)) taken.push(edge.id);
  }
  const finished = run && FINISHED_RUN_STATUSES.includes(run.status);
  const active = finished ? null : (run?.current_node ?? ordered[ordered.length - 1]?.node_id ?? null);
  return {
    activeNodeId: active,
    takenEdgeIds: taken,
    visitedNodeIds: [...new Set(ordered.map((step) => step.node_id))],
  };
}

function upsert<T>(items: T[], item: T, same: (a: T, b: T) => boolean): T[] {
  const index = items.findIndex((existing) => same(existing, item));
  if (index < 0) return [...items, item];
  const copy = [...items];
  copy[index] = item;
  return copy;
}

/** Folds one websocket event into the test run state (snapshots replace, the rest upsert). */
export function applyRunEvent(state: TestRun, event: TestRunEvent): TestRun {
  switch (event.type) {
    case "snapshot": {
      const { type: _type, ...snapshot } = event;
      void _type;
      return { ...state, ...snapshot };
    }
    case "step":
      return { ...state, steps: upsert(state.steps, event.step, (a, b) => a.seq === b.seq) };
    case "message":
      return { ...state, messages: upsert<ChatMessage>(state.messages, event.message, (a, b) => a.id === b.id) };
    case "run":
      return { ...state, run: event.run, status: event.run.status ?? state.status };
    default:
      return state;
  }
}

/** The `{{trigger.x}}` names a flow reads, to prefill the payload of an external-event test. */
export function triggerFieldsUsed(configs: unknown[]): string[] {
  const found = new Set<string>();
  const text = JSON.stringify(configs);
  for (const match of text.matchAll(/\{\{\s*trigger\.([A-Za-z_][\w]*)/g)) found.add(match[1]);
  return [...found];
}
