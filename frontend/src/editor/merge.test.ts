import { describe, expect, it } from "vitest";
import type { FlowDefinition } from "../api/types";
import { mergeDefinitions } from "./merge";

const base: FlowDefinition = {
  spec_version: 1,
  nodes: [
    { id: "t", type: "trigger", config: { event: "message" } },
    { id: "a", type: "send_message", config: { text: "A" } },
    { id: "b", type: "send_message", config: { text: "B" } },
  ],
  edges: [{ id: "e1", source: "t", source_port: "next", target: "a" }],
  ui: { nodes: { t: { position: { x: 0, y: 0 } } } },
};

describe("three-way merge after a save conflict", () => {
  it("applies my additions, edits and removals on top of theirs", () => {
    const mine = structuredClone(base);
    mine.nodes[1].config = { text: "A (minha)" };
    mine.nodes = mine.nodes.filter((node) => node.id !== "b");
    mine.nodes.push({ id: "end_1", type: "end", config: {} });
    mine.edges.push({ id: "e2", source: "a", source_port: "next", target: "end_1" });
    const theirs = structuredClone(base);
    theirs.nodes.push({ id: "end_1", type: "end", config: { reason: "deles" } });
    theirs.nodes[2].config = { text: "B (deles)" };
    const { definition, overlaps } = mergeDefinitions(base, mine, theirs);
    const byId = Object.fromEntries(definition.nodes.map((node) => [node.id, node]));
    expect(byId.a.config).toEqual({ text: "A (minha)" });
    expect(byId.b.config).toEqual({ text: "B (deles)" }); // they changed what I removed: kept
    expect(byId.end_1.config).toEqual({ reason: "deles" });
    expect(byId.end_1_2.type).toBe("end"); // my block with the same readable id got a free one
    expect(definition.edges.map((edge) => [edge.source, edge.target])).toContainEqual(["a", "end_1_2"]);
    expect(overlaps).toEqual([]);
  });

  it("keeps my version of a block both changed and reports it", () => {
    const mine = structuredClone(base);
    mine.nodes[1].config = { text: "minha" };
    const theirs = structuredClone(base);
    theirs.nodes[1].config = { text: "deles" };
    const { definition, overlaps } = mergeDefinitions(base, mine, theirs);
    expect(definition.nodes.find((node) => node.id === "a")?.config).toEqual({ text: "minha" });
    expect(overlaps).toEqual(["a"]);
  });
});
