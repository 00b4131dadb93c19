import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mockFetch, NODE_TYPES, postCallDefinition } from "../test/fixtures";
import { AUTOSAVE_DELAY_MS, createDraftController } from "./draft";
import { createEditorStore } from "./store";
import { createValidator, VALIDATE_DELAY_MS } from "./validation";

function setup() {
  const editor = createEditorStore();
  editor.getState().setNodeTypes(NODE_TYPES);
  editor.getState().load(postCallDefinition());
  const draft = createDraftController(editor);
  draft.start();
  draft.reset(42, 3);
  return { editor, draft };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("draft autosave", () => {
  it("saves after a pause with the revision it started from, then follows the new revision", async () => {
    let next = 4;
    const calls = mockFetch((method, url) =>
      method === "POST" && url === "/api/flows/42/revisions/" ? { status: 201, body: { revision: next++ } } : undefined,
    );
    const { editor, draft } = setup();
    editor.getState().addStep("end", { x: 0, y: 0 });
    editor.getState().addNote({ x: 0, y: 0 }, "x");
    expect(draft.state.getState().status).toBe("dirty");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    expect(calls).toHaveLength(1); // two quick edits, one save
    expect(calls[0].body).toMatchObject({ base_revision: 3 });
    expect((calls[0].body as { definition: { nodes: unknown[] } }).definition.nodes).toHaveLength(6);
    expect(draft.state.getState()).toMatchObject({ status: "saved", revision: 4 });

    editor.getState().undo();
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    expect(calls[1].body).toMatchObject({ base_revision: 4 });
    expect(draft.state.getState().revision).toBe(5);
  });

  it("sends its editing session and the saves it saw, so the server coalesces them", async () => {
    const calls = mockFetch((method) => (method === "POST" ? { status: 201, body: { revision: 4, saves: calls.length } } : undefined));
    const { editor, draft } = setup();
    editor.getState().addStep("end", { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    editor.getState().addStep("end", { x: 50, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    expect(calls[0].body).toMatchObject({ session: draft.session, base_revision: 3, base_saves: null });
    expect(calls[1].body).toMatchObject({ session: draft.session, base_revision: 4, base_saves: 1 });
  });

  it("tells the same person's other tab apart from someone else, and keeps the edit locally", async () => {
    mockFetch(() => ({
      status: 409,
      body: { error: { code: "stale_revision", message: "stale", details: {}, current_revision: 7, author: "ana", author_id: 1, session: "other-tab", saved_at: "2026-11-22T10:00:00Z" } },
    }));
    const editor = createEditorStore();
    editor.getState().setNodeTypes(NODE_TYPES);
    editor.getState().load(postCallDefinition());
    const draft = createDraftController(editor, { userId: 1 });
    draft.start();
    draft.reset(43, 3);
    editor.getState().setName("wait", "Minha edição");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    expect(draft.state.getState().conflict).toMatchObject({ sameUser: true, author: "ana" });
    const kept = JSON.parse(localStorage.getItem("fluxo.draft.43") ?? "{}");
    expect(kept.definition.nodes.find((node: { id: string }) => node.id === "wait").name).toBe("Minha edição");
  });

  it("stops and reports who saved when the server answers 409", async () => {
    const calls = mockFetch(() => ({
      status: 409,
      body: { error: { code: "stale_revision", message: "stale", details: {}, current_revision: 7, author: "bruno", saved_at: "2026-11-22T10:00:00Z" } },
    }));
    const { editor, draft } = setup();
    editor.getState().addStep("end", { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    expect(draft.state.getState()).toMatchObject({
      status: "conflict",
      conflict: { author: "bruno", currentRevision: 7, savedAt: "2026-11-22T10:00:00Z" },
    });
    editor.getState().addStep("end", { x: 10, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS * 3);
    expect(calls).toHaveLength(1); // no further attempt to overwrite
  });

  it("reports other failures and saves nothing when nothing changed", async () => {
    const calls = mockFetch(() => ({ status: 500, body: { error: { code: "server_error", message: "boom", details: {} } } }));
    const { editor, draft } = setup();
    await draft.saveNow();
    expect(calls).toHaveLength(0);
    editor.getState().addStep("end", { x: 0, y: 0 });
    await draft.saveNow();
    expect(draft.state.getState()).toMatchObject({ status: "error", lastError: "boom" });
  });
});

describe("validation while editing", () => {
  it("sends the definition after a pause and keeps errors and scope", async () => {
    const calls = mockFetch((_method, url) =>
      url === "/api/flows/42/validate/"
        ? {
            status: 200,
            body: {
              valid: false,
              errors: [{ code: "template_required", node_id: "retry", field: "template", message: { "pt-BR": "Escolha", en: "Pick" } }],
              scope: { retry: ["contact.name", "trigger.call_result"] },
            },
          }
        : undefined,
    );
    const { editor } = setup();
    const validator = createValidator(editor, 42);
    validator.start();
    editor.getState().addStep("end", { x: 0, y: 0 });
    editor.getState().addStep("end", { x: 9, y: 0 });
    await vi.advanceTimersByTimeAsync(VALIDATE_DELAY_MS + 10);
    expect(calls.filter((call) => call.url.endsWith("/validate/"))).toHaveLength(1);
    expect(editor.getState().problems[0].node_id).toBe("retry");
    expect(editor.getState().scope.retry).toContain("contact.name");
    validator.dispose();
  });
});
