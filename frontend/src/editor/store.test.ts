import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NODE_TYPES, postCallDefinition } from "../test/fixtures";
import { isStepNode, type StepNode } from "./graph";
import { createEditorStore, type EditorStore } from "./store";

let store: EditorStore;
const state = () => store.getState();
const step = (id: string) => state().nodes.find((node) => node.id === id) as StepNode;
const select = (...ids: string[]) =>
  state().onNodesChange(state().nodes.map((node) => ({ type: "select", id: node.id, selected: ids.includes(node.id) })));

beforeEach(() => {
  store = createEditorStore();
  state().setNodeTypes(NODE_TYPES);
  state().load(postCallDefinition());
});

afterEach(() => vi.useRealTimers());

describe("editor store", () => {
  it("merges a burst of edits to one step's config into one undo step", () => {
    vi.useFakeTimers();
    const type = (text: string) => state().updateConfig("retry", { ...step("retry").data.config, template: text });
    type("a");
    type("ab");
    type("abc");
    expect(state().past).toHaveLength(1);
    vi.advanceTimersByTime(1500);
    type("abcd");
    expect(state().past).toHaveLength(2);
    state().undo();
    expect(step("retry").data.config.template).toBe("abc");
    state().undo();
    expect(step("retry").data.config.template).toBe("retorno_ligacao");
    expect(state().version).toBe(6); // every edit and undo still counts for autosave
  });

  it("adds a step with the type's default config, selected", () => {
    const id = state().addStep("delay", { x: 5, y: 6 });
    expect(step(id).data).toEqual({ nodeType: "delay", config: { mode: "duration", duration: { value: 1, unit: "hours" } } });
    expect(step(id).selected).toBe(true);
    expect(state().version).toBe(1);
  });

  it("connects one edge per port, replacing the previous target", () => {
    expect(state().connect({ source: "route", sourceHandle: "c1", target: "thanks", targetHandle: null })).toBe(true);
    const fromC1 = state().edges.filter((edge) => edge.source === "route" && edge.sourceHandle === "c1");
    expect(fromC1.map((edge) => edge.target)).toEqual(["thanks"]);
  });

  it("refuses self loops and edges into a trigger", () => {
    expect(state().connect({ source: "wait", sourceHandle: "next", target: "wait", targetHandle: null })).toBe(false);
    expect(state().connect({ source: "retry", sourceHandle: "next", target: "start", targetHandle: null })).toBe(false);
    expect(state().version).toBe(0);
  });

  it("drops the edge of a branch condition that was removed", () => {
    const config = structuredClone(step("route").data.config) as { conditions: { id: string }[] };
    config.conditions = config.conditions.filter((condition) => condition.id !== "c2");
    state().updateConfig("route", config);
    expect(state().edges.map((edge) => edge.id)).toEqual(["e1", "e2", "e3"]);
  });

  it("deletes the selected steps with their edges, and undo/redo restore them", () => {
    select("route");
    state().deleteSelected();
    expect(state().nodes.some((node) => node.id === "route")).toBe(false);
    expect(state().edges.map((edge) => edge.id)).toEqual(["e1"]);
    state().undo();
    expect(step("route")).toBeDefined();
    expect(state().edges).toHaveLength(4);
    state().redo();
    expect(state().edges).toHaveLength(1);
  });

  it("records a whole drag as one undo step", () => {
    const versionBefore = state().version;
    state().onNodesChange([{ type: "position", id: "wait", position: { x: 310, y: 0 }, dragging: true }]);
    state().onNodesChange([{ type: "position", id: "wait", position: { x: 350, y: 10 }, dragging: true }]);
    expect(state().version).toBe(versionBefore);
    state().onNodesChange([{ type: "position", id: "wait", position: { x: 360, y: 12 }, dragging: false }]);
    expect(step("wait").position).toEqual({ x: 360, y: 12 });
    expect(state().past).toHaveLength(1);
    state().undo();
    expect(step("wait").position).toEqual({ x: 300, y: 0 });
  });

  it("does not treat selection as an edit", () => {
    select("wait", "route");
    expect(state().version).toBe(0);
    expect(state().past).toHaveLength(0);
    expect(state().nodes.filter((node) => node.selected).map((node) => node.id).sort()).toEqual(["route", "wait"]);
  });

  it("copies and pastes steps with new ids, keeping only the edges between them", () => {
    select("wait", "route");
    state().copySelected();
    state().paste();
    const pasted = state().nodes.filter((node) => node.selected);
    expect(pasted).toHaveLength(2);
    expect(pasted.every((node) => !["wait", "route"].includes(node.id))).toBe(true);
    const [copyOfWait] = pasted.filter((node) => isStepNode(node) && node.data.nodeType === "delay");
    expect(copyOfWait.position).toEqual({ x: 340, y: 40 });
    const newEdges = state().edges.filter((edge) => pasted.some((node) => node.id === edge.source));
    expect(newEdges).toHaveLength(1);
    expect(newEdges[0].target).toBe(pasted.find((node) => isStepNode(node) && node.data.nodeType === "branch")!.id);
    const definition = state().toDefinition();
    expect(definition.nodes).toHaveLength(7);
  });

  it("adds and edits sticky notes that land in ui.notes", () => {
    const id = state().addNote({ x: 1, y: 2 }, "");
    state().updateNote(id, "Falar com o time de vendas");
    const notes = state().toDefinition().ui?.notes ?? [];
    expect(notes.find((note) => note.id === id)).toMatchObject({ text: "Falar com o time de vendas", position: { x: 1, y: 2 } });
  });

  it("auto-layout (ELK) places steps left to right and a branch's paths in port order", async () => {
    // Swap the drawn order so the layout, not the input, decides: port c1 (retry) must end up above c2.
    state().onNodesChange([
      { type: "position", id: "retry", position: { x: 900, y: 300 } },
      { type: "position", id: "thanks", position: { x: 900, y: -300 } },
    ]);
    await state().layout();
    const at = (id: string) => step(id).position;
    expect(at("start").x).toBeLessThan(at("wait").x);
    expect(at("wait").x).toBeLessThan(at("route").x);
    expect(at("route").x).toBeLessThan(at("retry").x);
    expect(at("retry").y).toBeLessThan(at("thanks").y);
    state().undo();
    expect(step("retry").position).toEqual({ x: 900, y: 300 });
  });

  it("adds a block after a port, connected, placed beside its source and clear of others", () => {
    const id = state().addConnected("route", "default", "end");
    expect(id).toBe("end_1");
    expect(state().edges.find((edge) => edge.target === id)).toMatchObject({ source: "route", sourceHandle: "default" });
    const placed = step(id).position;
    expect(placed.x).toBeGreaterThan(step("route").position.x);
    for (const other of ["retry", "thanks"]) {
      const them = step(other).position;
      expect(Math.abs(them.x - placed.x) >= 240 || Math.abs(them.y - placed.y) >= 100).toBe(true);
    }
    expect(step(id).selected).toBe(true);
    // A port leads to one block: adding from a used port replaces its edge.
    const next = state().addConnected("route", "c1", "end");
    expect(state().edges.filter((edge) => edge.source === "route" && edge.sourceHandle === "c1").map((edge) => edge.target)).toEqual([next]);
    state().undo();
    expect(state().edges.find((edge) => edge.source === "route" && edge.sourceHandle === "c1")?.target).toBe("retry");
  });

  it("names blocks and restores a whole definition as one undoable step", () => {
    state().setName("wait", "Aguardar 2 h");
    expect(state().toDefinition().nodes.find((node) => node.id === "wait")?.name).toBe("Aguardar 2 h");
    const before = state().toDefinition();
    state().replaceDefinition({ spec_version: 1, nodes: [{ id: "t", type: "trigger", config: {} }], edges: [] });
    expect(state().nodes.filter(isStepNode)).toHaveLength(1);
    state().undo();
    expect(state().toDefinition().nodes).toEqual(before.nodes);
  });
});
