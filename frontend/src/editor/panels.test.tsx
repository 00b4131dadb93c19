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
