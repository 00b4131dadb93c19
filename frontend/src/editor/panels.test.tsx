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
        <EditorToolbar flow={flow} saveStatus="saved" draftRevision={3} readOnly={false} drawer="none" onDrawer={() => undefined} onAddNote={() => undefined} onPublish={() => undefined} onRename={onRename} />
      </ReactFlowProvider>,
    );
    fireEvent.click(screen.getByTitle("Renomear fluxo"));
    fireEvent.change(screen.getByTestId("flow-name-input"), { target: { value: "  Pós-ligação v2 " } });
    fireEvent.keyDown(screen.getByTestId("flow-name-input"), { key: "Enter" });
    expect(onRename).toHaveBeenCalledWith("Pós-ligação v2");
    expect((screen.getByTestId("undo") as HTMLButtonElement).disabled).toBe(true);
    act(() => void useEditor.getState().addStep("end", { x: 0, y: 0 }));
    fireEvent.click(screen.getByTestId("undo"));
    expect(useEditor.getState().nodes.filter((node) => node.type === "step")).toHaveLength(5);
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
    expect(nodeProblem.textContent).toBe("Enviar template: Escolha um template.");
    expect((flowProblem as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(nodeProblem);
    expect(useEditor.getState().nodes.filter((node) => node.selected).map((node) => node.id)).toEqual(["retry"]);
    act(() => useLanguage.getState().setLanguage("en"));
    expect(screen.getAllByTestId("problem")[0].textContent).toBe("Send template: Pick a template.");
  });
});

describe("history panel", () => {
  it("lists revisions newest first and restores one", async () => {
    const { HistoryPanel } = await import("./HistoryPanel");
    mockFetch((_method, url) =>
      url === "/api/flows/5/revisions/"
        ? {
            status: 200,
            body: [
              { revision: 1, spec_version: 1, author: "ana", comment: "", created_at: "2026-11-20T10:00:00Z", is_published: true },
              { revision: 2, spec_version: 1, author: "bruno", comment: "ajuste", created_at: "2026-11-21T10:00:00Z", is_published: false },
            ],
          }
        : undefined,
    );
    const onRestore = vi.fn(async () => undefined);
    render(<HistoryPanel flowId={5} currentRevision={2} onRestore={onRestore} onClose={() => undefined} readOnly={false} />);
    const items = await screen.findAllByRole("listitem");
    expect(items.map((item) => item.dataset.testid)).toEqual(["revision-2", "revision-1"]);
    expect(screen.queryByTestId("restore-2")).toBeNull(); // the current draft
    expect(items[1].textContent).toContain("publicada");
    fireEvent.click(screen.getByTestId("restore-1"));
    expect(onRestore).toHaveBeenCalledWith(1);
  });
});

describe("publish dialog", () => {
  it("needs a comment and shows why a flow cannot be published", async () => {
    const { PublishDialog } = await import("./PublishDialog");
    const onPublish = vi.fn();
    const errors = [{ code: "x", node_id: "a", field: null, message: { "pt-BR": "Falta o gatilho.", en: "No trigger." } }];
    render(<PublishDialog onPublish={onPublish} onClose={() => undefined} errors={errors} busy={false} />);
    expect((screen.getByTestId("publish-confirm") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId("publish-comment"), { target: { value: " Nova versão " } });
    fireEvent.click(screen.getByTestId("publish-confirm"));
    expect(onPublish).toHaveBeenCalledWith("Nova versão");
    expect(screen.getByTestId("publish-errors").textContent).toContain("Falta o gatilho.");
  });
});
