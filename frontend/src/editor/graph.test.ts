import { describe, expect, it } from "vitest";
import { postCallDefinition } from "../test/fixtures";
import { definitionToGraph, graphToDefinition, isNoteNode, isStepNode } from "./graph";

describe("graph <-> definition", () => {
  it("round-trips a definition with layout, notes and viewport", () => {
    const definition = postCallDefinition();
    expect(graphToDefinition(definitionToGraph(definition))).toEqual(definition);
  });

  it("puts steps and notes on the canvas with their stored positions", () => {
    const graph = definitionToGraph(postCallDefinition());
    const route = graph.nodes.find((node) => node.id === "route")!;
    expect(isStepNode(route) && route.data.nodeType).toBe("branch");
    expect(route.position).toEqual({ x: 600, y: 0 });
    const note = graph.nodes.find(isNoteNode)!;
    expect(note.data.text).toBe("Liga de volta em 2 h");
    expect([note.width, note.height]).toEqual([220, 100]);
    expect(graph.edges.find((edge) => edge.id === "e3")).toMatchObject({ source: "route", sourceHandle: "c1", target: "retry" });
  });

  it("gives nodes without a stored position distinct places", () => {
    const definition = postCallDefinition();
    definition.ui = {};
    const positions = definitionToGraph(definition).nodes.map((node) => `${node.position.x},${node.position.y}`);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it("keeps layout out of the engine's part and drops edges that touch notes", () => {
    const graph = definitionToGraph(postCallDefinition());
    graph.edges.push({ id: "bad", source: "note1", target: "wait" });
    const moved = graph.nodes.map((node) => (node.id === "wait" ? { ...node, position: { x: 310.6, y: 4.2 } } : node));
    const definition = graphToDefinition({ nodes: moved, edges: graph.edges });
    expect(definition.edges.map((edge) => edge.id)).not.toContain("bad");
    expect(definition.nodes.find((node) => node.id === "wait")).toEqual({
      id: "wait",
      type: "delay",
      config: { mode: "duration", duration: { value: 2, unit: "hours" } },
    });
    expect(definition.ui?.nodes?.wait.position).toEqual({ x: 311, y: 4 });
    expect(definition.nodes.some((node) => node.id === "note1")).toBe(false);
  });

  it("does not share config objects between the graph and the definition", () => {
    const definition = postCallDefinition();
    const graph = definitionToGraph(definition);
    const start = graph.nodes.find((node) => node.id === "start")!;
    if (isStepNode(start)) start.data.config.event_name = "changed";
    expect(definition.nodes[0].config.event_name).toBe("call.finished");
  });
});
