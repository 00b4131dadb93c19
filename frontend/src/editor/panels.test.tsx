import { ReactFlowProvider } from "@xyflow/react";
import { act, fireEvent, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { FlowDetail } from "../api/types";
import { useLanguage } from "../i18n";
import { mockFetch, NODE_TYPES, postCallDefinition } from "../test/fixtures";
import { EditorToolbar } from "./EditorToolbar";
import { SidePanel } from "./SidePanel";
import { useEditor } from "./store";

beforeEach(() => {
  useLanguage.getState().setLanguage("pt-BR");
  useEditor.getState().setNodeTypes(NODE_TYPES);
  useEditor.getState().load(postCallDefinition());
  mockFetch(() => ({ status: 200, body: [] }));
});

describe("side panel", () => {
  it("shows the selected step's form, edits its config and deletes it", () => {
    render(<SidePanel readOnly={false} />);
    expect(screen.getByText("Selecione um bloco para editar sua configuração.")).toBeTruthy();
    act(() => useEditor.getState().selectOnly("wait"));
    fireEvent.change(screen.getByLabelText("Quantidade"), { target: { value: "3" } });
    const wait = useEditor.getState().nodes.find((node) => node.id === "wait")!;
    expect(wait.data).toMatchObject({ config: { duration: { value: 3, unit: "hours" } } });
    fireEvent.click(screen.getByTestId("delete-node"));
    expect(useEditor.getState().nodes.some((node) => node.id === "wait")).toBe(false);
  });

  it("is read-only for viewers", () => {
    useEditor.getState().selectOnly("wait");
    render(<SidePanel readOnly />);
    expect((screen.getByLabelText("Quantidade") as HTMLInputElement).closest("fieldset")!.disabled).toBe(true);
    expect(screen.queryByTestId("delete-node")).toBeNull();
  });
});

describe("editor toolbar", () => {
  const flow = { id: 1, name: "Pós-ligação", status: "draft", published_revision: null } as unknown as FlowDetail;

  it("renames the flow inline and undoes through the store", () => {
    const onRename = vi.fn();
    render(
      <ReactFlowProvider>
        <EditorToolbar
          flow={flow}
          saveStatus="saved"
          draftRevision={3}
          readOnly={false}
          drawer="none"
          testOpen={false}
          onDrawer={() => undefined}
          onTest={() => undefined}
          onSearch={() => undefined}
          onAddNote={() => undefined}
          onPublish={() => undefined}
          onRename={onRename}
          onSaveVersion={() => undefined}
        />
      </ReactFlowProvider>,
    );
    fireEvent.click(screen.getByTitle("Pós-ligação — Renomear fluxo"));
    fireEvent.change(screen.getByTestId("flow-name-input"), { target: { value: "  Pós-ligação v2 " } });
    fireEvent.keyDown(screen.getByTestId("flow-name-input"), { key: "Enter" });
    expect(onRename).toHaveBeenCalledWith("Pós-ligação v2");
    expect((screen.getByTestId("undo") as HTMLButtonElement).disabled).toBe(true);
    act(() => void useEditor.getState().addStep("end", { x: 0, y: 0 }));
    fireEvent.click(screen.getByTestId("undo"));
    expect(useEditor.getState().nodes.filter((node) => node.type === "step")).toHaveLength(5);
    // Publish is the primary action only when the draft differs from the published revision.
    expect(screen.getByTestId("publish").className).toBe("primary");
  });

  it("says there is nothing new to publish when the draft is the published revision", () => {
    render(
      <ReactFlowProvider>
        <EditorToolbar
          flow={{ ...flow, published_revision: 3 }}
          saveStatus="saved"
          draftRevision={3}
          readOnly={false}
          drawer="none"
          testOpen={false}
          onDrawer={() => undefined}
          onTest={() => undefined}
          onSearch={() => undefined}
          onAddNote={() => undefined}
          onPublish={() => undefined}
          onRename={() => undefined}
          onSaveVersion={() => undefined}
        />
      </ReactFlowProvider>,
    );
    const publish = screen.getByTestId("publish");
    expect(publish.className).not.toContain("primary");
    expect(publish.textContent).toContain("Publicado");
  });
});

describe("problems panel", () => {
  it("lists problems in the current language and selects the node on click", async () => {
    const { ProblemsPanel } = await import("./ProblemsPanel");
    act(() =>
      useEditor.getState().setValidation(
        [
          { code: "template_required", node_id: "retry", field: "template", message: { "pt-BR": "Escolha um template.", en: "Pick a template." } },
          { code: "no_trigger", node_id: null, field: null, message: { "pt-BR": "O fluxo não tem gatilho.", en: "No trigger." } },
          { code: "policy_window_delay", node_id: "thanks", field: "text", severity: "warning", message: { "pt-BR": "Janela pode ter fechado.", en: "Window may be closed." } },
        ],
        {},
      ),
    );
    render(
      <ReactFlowProvider>
        <ProblemsPanel />
      </ReactFlowProvider>,
    );
    const [nodeProblem, flowProblem] = screen.getAllByTestId("problem");
    expect(nodeProblem.textContent).toBe("✖ Enviar template: Escolha um template.");
    expect(screen.getByTestId("warning").textContent).toBe("⚠ Enviar template: Janela pode ter fechado.");
    expect(screen.getByTestId("warning-count").textContent).toContain("1");
    expect((flowProblem as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(nodeProblem);
    expect(useEditor.getState().nodes.filter((node) => node.selected).map((node) => node.id)).toEqual(["retry"]);
    act(() => useLanguage.getState().setLanguage("en"));
    expect(screen.getAllByTestId("problem")[0].textContent).toBe("✖ Send template: Pick a template.");
  });
});

describe("history panel", () => {
  it("lists revisions newest first with authors, publish comments and what changed; previews one", async () => {
    const { HistoryPanel } = await import("./HistoryPanel");
    mockFetch((_method, url) =>
      url === "/api/flows/5/revisions/"
        ? {
            status: 200,
            body: [
              { revision: 1, spec_version: 1, author: "ana", comment: "", created_at: "2026-11-20T10:00:00Z", is_published: true,
                publications: [{ comment: "Primeira versão", by: "ana", at: "2026-11-20T11:00:00Z", warnings: 0 }],
                diff: { added: 5, removed: 0, changed: 0, moved: 0, connections: 4 } },
              { revision: 2, spec_version: 1, author: "bruno", comment: "ajuste", created_at: "2026-11-21T10:00:00Z", is_published: false, saves: 7,
                diff: { added: 1, removed: 1, changed: 2, moved: 0, connections: 1 } },
            ],
          }
        : undefined,
    );
    const onPreview = vi.fn();
    render(<HistoryPanel flowId={5} currentRevision={2} refreshKey={0} previewing={null} onPreview={onPreview} onClose={() => undefined} />);
    const items = await screen.findAllByRole("listitem");
    expect(items.map((item) => item.dataset.testid)).toEqual(["revision-2", "revision-1"]);
    expect(items[0].textContent).toContain("7 salvamentos");
    expect(items[0].textContent).toContain("+1 adicionados");
    expect(items[0].textContent).toContain("~2 alterados");
    expect(items[1].textContent).toContain("publicada por ana");
    expect(items[1].textContent).toContain("“Primeira versão”");
    fireEvent.click(screen.getByTestId("preview-1"));
    expect(onPreview).toHaveBeenCalledWith(1);
  });
});

describe("publish dialog", () => {
  const error = { code: "x", node_id: "start", field: null, message: { "pt-BR": "Falta o nome do evento.", en: "No event name." } };
  const warning = { code: "policy_window_delay", node_id: "retry", field: "text", severity: "warning" as const, message: { "pt-BR": "A janela de 24 h pode ter fechado.", en: "Window." } };

  it("blocks on errors and names the block", async () => {
    const { PublishDialog } = await import("./PublishDialog");
    render(<PublishDialog check={{ valid: false, errors: [error], warnings: [], scope: {} }} onPublish={vi.fn()} onClose={() => undefined} onPick={() => undefined} errors={[]} busy={false} upToDate={false} />);
    fireEvent.change(screen.getByTestId("publish-comment"), { target: { value: "Nova versão" } });
    expect((screen.getByTestId("publish-confirm") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("publish-errors").textContent).toContain("Gatilho: Falta o nome do evento.");
  });

  it("asks to confirm warnings and to choose for a flow on the same event", async () => {
    const { PublishDialog } = await import("./PublishDialog");
    const onPublish = vi.fn();
    const conflicts = [{ flow_id: 9, flow_name: "Antigo", event: "external", event_name: "call.finished", node_id: "start", event_label: { "pt-BR": "o evento externo “call.finished”", en: "x" } }];
    render(<PublishDialog check={{ valid: true, errors: [], warnings: [warning], scope: {}, conflicts }} onPublish={onPublish} onClose={() => undefined} onPick={() => undefined} errors={[]} busy={false} upToDate={false} />);
    fireEvent.change(screen.getByTestId("publish-comment"), { target: { value: " Nova versão " } });
    const confirm = screen.getByTestId("publish-confirm") as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    fireEvent.click(screen.getByTestId("publish-accept-warnings"));
    expect(confirm.disabled).toBe(true); // still no choice for "Antigo"
    fireEvent.click(screen.getByTestId("conflict-replace-9"));
    expect(confirm.disabled).toBe(false);
    fireEvent.click(confirm);
    expect(onPublish).toHaveBeenCalledWith({ comment: "Nova versão", acceptWarnings: true, decisions: { "9": "replace" } });
  });
});
