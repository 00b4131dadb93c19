// One flow's editor: palette | canvas | side panel, with toolbar, problems, history and test run.
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { FlowDetail, NodeTypeSpec, User, ValidationError } from "../api/types";
import { formatDateTime, useT } from "../i18n";
import { Canvas } from "./Canvas";
import { conflictFrom, createDraftController } from "./draft";
import { EditorToolbar, type Drawer } from "./EditorToolbar";
import { emptyDefinition } from "./graph";
import { HistoryPanel } from "./HistoryPanel";
import { Palette } from "./Palette";
import { ProblemsPanel } from "./ProblemsPanel";
import { PublishDialog } from "./PublishDialog";
import { SidePanel } from "./SidePanel";
import { useEditor } from "./store";
import { TestRunPanel } from "./TestRunPanel";
import { createValidator } from "./validation";
import { PathCountsLayer, RunsToolbarItems, type CountPeriod } from "../pages/runs/PathCounts";

function EditorScreen({ flowId, user }: { flowId: number; user: User }) {
  const { t, language } = useT();
  const flowView = useReactFlow();
  const [flow, setFlow] = useState<FlowDetail | null>(null);
  const [specs, setSpecs] = useState<NodeTypeSpec[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  // "Test run" in the flow list opens the editor with the test panel (?test).
  const [drawer, setDrawer] = useState<Drawer>(() => (new URLSearchParams(window.location.search).has("test") ? "test" : "none"));
  const [publishOpen, setPublishOpen] = useState(false);
  const [publishErrors, setPublishErrors] = useState<ValidationError[]>([]);
  const [publishing, setPublishing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [countsPeriod, setCountsPeriod] = useState<CountPeriod | null>(null);
  const draft = useMemo(() => createDraftController(useEditor), []);
  const validator = useMemo(() => createValidator(useEditor, flowId), [flowId]);
  const saveState = draft.state();
  const readOnly = !user.roles.includes("editor") && !user.roles.includes("admin");

  const loadFlow = useCallback(async () => {
    const detail = await endpoints.flow(flowId);
    // The graph is in the store before the canvas first renders, so its initial fit sees it.
    useEditor.getState().load(detail.draft?.definition ?? emptyDefinition());
    setFlow(detail);
    draft.reset(flowId, detail.draft?.revision ?? detail.latest_revision ?? null);
    void validator.run();
    return detail;
  }, [flowId, draft, validator]);

  useEffect(() => {
    let alive = true;
    draft.start();
    validator.start();
    Promise.all([endpoints.nodeTypes(), loadFlow()]).then(
      ([types]) => {
        if (!alive) return;
        setSpecs(types);
        useEditor.getState().setNodeTypes(types);
      },
      (error: Error) => alive && setLoadError(error.message),
    );
    return () => {
      alive = false;
      draft.dispose();
      validator.dispose();
    };
  }, [loadFlow, draft, validator]);

  // Unsaved edits are sent when the page goes away, and the browser warns before closing.
  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (["dirty", "saving"].includes(draft.state.getState().status)) event.preventDefault();
    };
    const leave = () => {
      if (draft.state.getState().status === "dirty") void draft.saveNow({ leaving: true });
    };
    window.addEventListener("beforeunload", warn);
    window.addEventListener("pagehide", leave);
    return () => {
      window.removeEventListener("beforeunload", warn);
      window.removeEventListener("pagehide", leave);
    };
  }, [draft]);

  const addAtCenter = (nodeType: string) => {
    const bounds = document.querySelector(".canvas")?.getBoundingClientRect();
    const center = bounds
      ? flowView.screenToFlowPosition({ x: bounds.left + bounds.width / 2, y: bounds.top + bounds.height / 2 })
      : { x: 100, y: 100 };
    useEditor.getState().addStep(nodeType, { x: center.x - 110 + Math.random() * 40, y: center.y - 40 + Math.random() * 40 });
  };

  const addNote = () => {
    const bounds = document.querySelector(".canvas")?.getBoundingClientRect();
    const at = bounds ? flowView.screenToFlowPosition({ x: bounds.left + 40, y: bounds.top + 40 }) : { x: 0, y: 0 };
    useEditor.getState().addNote(at);
  };

  /** Saves pending edits; returns the revision that now holds the editor's content. */
  const flush = async (): Promise<number | null> => {
    await draft.saveNow();
    const state = draft.state.getState();
    if (state.status === "conflict") throw new Error(t("conflict.title"));
    if (state.status === "error") throw new Error(state.lastError ?? t("save.error"));
    return state.revision;
  };

  const publish = async (comment: string) => {
    setPublishing(true);
    setPublishErrors([]);
    try {
      const revision = await flush();
      const check = await endpoints.validate(flowId, useEditor.getState().toDefinition());
      useEditor.getState().setValidation(check.errors, check.scope ?? {});
      if (!check.valid) {
        setPublishErrors(check.errors);
        return;
      }
      if (revision === null) throw new Error(t("publish.nothing"));
      const published = await endpoints.publish(flowId, revision, comment);
      setFlow((current) => (current ? { ...current, ...published, draft: current.draft } : current));
      setPublishOpen(false);
      setNotice(t("publish.done", { n: revision }));
    } catch (error) {
      if (error instanceof ApiError && Array.isArray(error.body.errors)) setPublishErrors(error.body.errors as ValidationError[]);
      else setPublishErrors([{ code: "error", node_id: null, field: null, message: { "pt-BR": String((error as Error).message), en: String((error as Error).message) } }]);
    } finally {
      setPublishing(false);
    }
  };

  const restore = async (revision: number) => {
    try {
      await flush();
    } catch {
      /* a conflict or failed save: restoring replaces the draft anyway, the server checks base_revision */
    }
    try {
      const created = await endpoints.restoreRevision(flowId, revision, draft.state.getState().revision);
      const definition = created.definition ?? (await endpoints.revision(flowId, created.revision)).definition;
      useEditor.getState().load(definition);
      draft.adopt(created.revision);
      void validator.run();
      setNotice(t("history.restored", { from: revision, to: created.revision }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        draft.state.setState({ status: "conflict", conflict: conflictFrom(error) });
      } else {
        setNotice(String((error as Error).message));
      }
    }
  };

  if (loadError) return <p className="page-error" role="alert">{loadError}</p>;
  if (!flow) return <p className="muted page-loading">{t("common.loading")}</p>;

  return (
    <div className="editor" data-testid="editor">
      <EditorToolbar
        flow={flow}
        saveStatus={saveState.status}
        draftRevision={saveState.revision}
        readOnly={readOnly}
        drawer={drawer}
        onDrawer={setDrawer}
        onAddNote={addNote}
        onRename={(name) =>
          endpoints.renameFlow(flowId, { name }).then(
            (renamed) => setFlow((current) => (current ? { ...current, name: renamed.name } : current)),
            (error: Error) => setNotice(error.message),
          )
        }
        extra={<RunsToolbarItems flowId={flowId} period={countsPeriod} onPeriod={setCountsPeriod} canEdit={!readOnly} />}
        onPublish={() => {
          setPublishErrors([]);
          setPublishOpen(true);
        }}
      />
      {saveState.status === "conflict" && saveState.conflict && (
        <div className="banner danger" role="alert" data-testid="conflict-banner">
          <strong>{t("conflict.title")}</strong>{" "}
          {t("conflict.body", { author: saveState.conflict.author, at: formatDateTime(language, saveState.conflict.savedAt), n: saveState.conflict.currentRevision ?? "?" })}
          <button type="button" data-testid="conflict-reload" onClick={() => void loadFlow()}>
            {t("conflict.reload")}
          </button>
        </div>
      )}
      {saveState.status === "error" && (
        <div className="banner warn" role="alert">
          {t("save.error")}: {saveState.lastError}
          <button type="button" onClick={() => { draft.state.setState({ status: "dirty" }); void draft.saveNow(); }}>
            {t("common.retry")}
          </button>
        </div>
      )}
      {notice && (
        <div className="banner info" data-testid="notice">
          {notice}
          <button type="button" className="icon-button" aria-label={t("common.close")} onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      <div className="editor-body">
        <Palette specs={specs} onAdd={addAtCenter} readOnly={readOnly} />
        <main className="canvas-column">
          <PathCountsLayer flowId={flowId} period={countsPeriod}>
            <Canvas readOnly={readOnly} />
          </PathCountsLayer>
          <ProblemsPanel />
        </main>
        <SidePanel readOnly={readOnly} />
        {drawer === "history" && (
          <HistoryPanel flowId={flowId} currentRevision={saveState.revision} onRestore={restore} onClose={() => setDrawer("none")} readOnly={readOnly} />
        )}
        {drawer === "test" && <TestRunPanel flowId={flowId} beforeStart={flush} onClose={() => setDrawer("none")} />}
      </div>
      {publishOpen && <PublishDialog onPublish={publish} onClose={() => setPublishOpen(false)} errors={publishErrors} busy={publishing} />}
    </div>
  );
}

export function EditorPage({ flowId, user }: { flowId: number; user: User }) {
  return (
    <ReactFlowProvider>
      <EditorScreen key={flowId} flowId={flowId} user={user} />
    </ReactFlowProvider>
  );
}
