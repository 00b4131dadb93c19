import { vi } from "vitest";
import type { FlowDefinition, NodeTypeSpec } from "../api/types";
import nodeTypesJson from "./fixtures/node-types.json";

/** A snapshot of GET /api/node-types/ (core types) taken from the backend registry. */
export const NODE_TYPES = nodeTypesJson as unknown as NodeTypeSpec[];

export function specOf(key: string): NodeTypeSpec {
  const spec = NODE_TYPES.find((candidate) => candidate.key === key);
  if (!spec) throw new Error(`no fixture for ${key}`);
  return spec;
}

/** The post-call follow-up flow, complete with layout and a note. */
export function postCallDefinition(): FlowDefinition {
  return {
    spec_version: 1,
    nodes: [
      { id: "start", type: "trigger", config: { event: "external", event_name: "call.finished", match: "any" } },
      { id: "wait", type: "delay", config: { mode: "duration", duration: { value: 2, unit: "hours" } } },
      {
        id: "route",
        type: "branch",
        config: {
          mode: "conditions",
          conditions: [
            { id: "c1", label: "Não atendeu", match: "all", rules: [{ left: "{{trigger.call_result}}", op: "equals", right: "no_answer" }] },
            { id: "c2", label: "Atendeu", match: "all", rules: [{ left: "{{trigger.call_result}}", op: "equals", right: "answered" }] },
          ],
        },
      },
      { id: "retry", type: "send_template", config: { template: "retorno_ligacao", language: "pt_BR", parameters: { body: ["{{contact.name}}"] } } },
      { id: "thanks", type: "send_template", config: { template: "obrigado_ligacao", language: "pt_BR", parameters: { body: ["{{contact.name}}"] } } },
    ],
    edges: [
      { id: "e1", source: "start", source_port: "next", target: "wait" },
      { id: "e2", source: "wait", source_port: "next", target: "route" },
      { id: "e3", source: "route", source_port: "c1", target: "retry" },
      { id: "e4", source: "route", source_port: "c2", target: "thanks" },
    ],
    ui: {
      nodes: {
        start: { position: { x: 0, y: 0 } },
        wait: { position: { x: 300, y: 0 } },
        route: { position: { x: 600, y: 0 } },
        retry: { position: { x: 900, y: -100 } },
        thanks: { position: { x: 900, y: 120 } },
      },
      notes: [{ id: "note1", text: "Liga de volta em 2 h", position: { x: 0, y: 200 }, size: { w: 220, h: 100 } }],
      viewport: { x: 10, y: 20, zoom: 0.8 },
    },
  };
}

type FetchHandler = (method: string, url: string, body: unknown) => { status: number; body?: unknown } | undefined;

/** Replaces global fetch with a router over (method, url); records every call. */
export function mockFetch(handler: FetchHandler) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = (init?.method ?? "GET").toUpperCase();
    const url = String(input);
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body });
    const answer = handler(method, url, body) ?? { status: 404, body: { error: { code: "not_found", message: "no mock", details: {} } } };
    return new Response(answer.body === undefined ? "" : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}
