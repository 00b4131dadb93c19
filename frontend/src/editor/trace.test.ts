import { describe, expect, it } from "vitest";
import type { RunStep, TestRun } from "../api/types";
import { postCallDefinition } from "../test/fixtures";
import { definitionToGraph } from "./graph";
import { applyRunEvent, traceFromRun, triggerFieldsUsed } from "./trace";

const step = (seq: number, node_id: string, port: string | null, outcome = "next"): RunStep => ({
  seq,
  node_id,
  node_type: "x",
  port,
  outcome,
  input: {},
  output: {},
  error: null,
  started_at: "",
  duration_us: 1,
});

describe("test run trace", () => {
  const { edges } = definitionToGraph(postCallDefinition());

  it("marks the edges taken and the active node", () => {
    const run = { id: 1, status: "waiting", current_node: "wait", context: {}, wake_at: "x", wait_kind: "delay" };
    const trace = traceFromRun([step(2, "wait", null, "wait"), step(1, "start", "next")], edges, run);
    expect(trace).toEqual({ activeNodeId: "wait", takenEdgeIds: ["e1"], visitedNodeIds: ["start", "wait"] });
  });

  it("follows the branch port actually taken, and has no active node once finished", () => {
    const steps = [step(1, "start", "next"), step(2, "wait", "next"), step(3, "route", "c2"), step(4, "thanks", "next")];
    const run = { id: 1, status: "completed", current_node: null, context: {}, wake_at: null, wait_kind: null };
    const trace = traceFromRun(steps, edges, run);
    expect(trace.takenEdgeIds).toEqual(["e1", "e2", "e4"]);
    expect(trace.activeNodeId).toBeNull();
  });

  it("folds websocket events into the run state", () => {
    let state: TestRun = { id: 7, status: "active", run: null, messages: [], steps: [] };
    state = applyRunEvent(state, { type: "step", step: step(1, "start", "next") });
    state = applyRunEvent(state, { type: "step", step: { ...step(1, "start", "next"), duration_us: 9 } });
    state = applyRunEvent(state, { type: "message", message: { id: 3, direction: "out", kind: "text", content: {}, status: "sent", created_at: "" } });
    expect(state.steps).toHaveLength(1);
    expect(state.steps[0].duration_us).toBe(9);
    expect(state.messages).toHaveLength(1);
    state = applyRunEvent(state, { type: "snapshot", id: 7, status: "done", run: null, messages: [], steps: [] });
    expect(state.steps).toHaveLength(0);
  });

  it("finds the trigger fields a flow reads", () => {
    expect(triggerFieldsUsed(postCallDefinition().nodes.map((node) => node.config))).toEqual(["call_result"]);
  });
});
