// One flow's editor: palette | canvas | block settings | test run (side by side), with the
// toolbar, problems, history (with preview and diff), publish checks and conflict handling.
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, errorText } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { FlowDetail, NodeTypeSpec, User, ValidationError, ValidationResult } from "../api/types";
import { formatDateTime, useT } from "../i18n";
import { navigate } from "../router";
import { Canvas } from "./Canvas";
import { createDraftController, readBackup, type LocalBackup } from "./draft";
import { EditorToolbar, type Drawer } from "./EditorToolbar";
import { emptyDefinition } from "./graph";
import { HistoryPanel } from "./HistoryPanel";
import { Palette } from "./Palette";
import { ProblemsPanel, useFocusNode } from "./ProblemsPanel";
import { PublishDialog, type PublishChoice } from "./PublishDialog";
import { RevisionPreview } from "./RevisionPreview";
import { SearchDialog } from "./SearchDialog";
import { SidePanel } from "./SidePanel";
import { useEditor } from "./store";
import { TestRunPanel } from "./TestRunPanel";
import { createValidator } from "./validation";
import { PathCountsLayer, RunsToolbarItems, type CountPeriod } from "../pages/runs/PathCounts";

interface Notice {
  text: string;
  kind: "info" | "danger";
  undo?: boolean;
}

function Confirm({ title, body, confirm, onConfirm, onCancel }: { title: string; body: string; confirm: string; onConfirm: () => void; onCancel: () => void }) {
  const { t } = useT();
  return (
    <div className="modal-backdrop">
      <div className="modal" role="alertdialog" aria-label={title} data-testid="confirm-dialog">
        <h2>{title}</h2>
        <p>{body}</p>
        <footer>
          <button type="button" onClick={onCancel}>
            {t("common.cancel")}
          </button>
          <button type="button" className="primary" autoFocus data-testid="confirm-ok" onClick={onConfirm}>
            {confirm}
          </button>
        </footer>
      </div>
    </div>
  );
}

function SaveVersionDialog({ onSave, onCancel }: { onSave: (comment: string) => void; onCancel: () => void }) {
  const { t } = useT();
  const [comment, setComment] = useState("");
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="dialog"
        aria-label={t("toolbar.saveVersion")}
        data-testid="save-version-dialog"
        onSubmit={(event) => {
          event.preventDefault();
          onSave(comment.trim());
        }}
      >
        <h2>{t("toolbar.saveVersion")}</h2>
        <label className="field">
          <span>{t("toolbar.saveVersionPrompt")}</span>
          <textarea autoFocus rows={3} data-testid="save-version-comment" value={comment} onChange={(event) => setComment(event.target.value)} />
        </label>
        <footer>
          <button type="button" onClick={onCancel}>
            {t("common.cancel")}
          </button>
          <button type="submit" className="primary" disabled={!comment.trim()} data-testid="save-version-confirm">
            {t("toolbar.saveVersion")}
          </button>
        </footer>
      </form>
    </div>
  );
}

function EditorScreen({ flowId, user }: { flowId: number; user: User }) {
  const { t, language } = useT();
  const flowView = useReactFlow();
  const focus = useFocusNode();
  const [flow, setFlow] = useState<FlowDetail | null>(null);
  const [specs, setSpecs] = useState<NodeTypeSpec[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [drawer, setDrawer] = useState<Drawer>("none");
  // "Test run" in the flow list opens the editor with the test panel (?test).
  const [testOpen, setTestOpen] = useState(() => new URLSearchParams(window.location.search).has("test"));
  const [publishOpen, setPublishOpen] = useState(false);
  const [publishCheck, setPublishCheck] = useState<ValidationResult | null>(null);
  const [publishErrors, setPublishErrors] = useState<ValidationError[]>([]);
  const [publishing, setPublishing] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [searchOpen, setSearchOpen] = useState(false);
  const [preview, setPreview] = useState<number | null>(null);
  const [confirmRestore, setConfirmRestore] = useState<number | null>(null);
  const [saveVersionOpen, setSaveVersionOpen] = useState(false);
  const [backup, setBackup] = useState<LocalBackup | null>(null);
  const [historyKey, setHistoryKey] = useState(0);
  const draft = useMemo(() => createDraftController(useEditor, { userId: user.id }), [user.id]);
  const [countsPeriod, setCountsPeriod] = useState<CountPeriod | null>(null);
  const validator = useMemo(() => createValidator(useEditor, flowId), [flowId]);
  const saveState = draft.state();
  const readOnly = !user.roles.includes("editor") && !user.roles.includes("admin");

  const loadFlow = useCallback(async () => {
    const detail = await endpoints.flow(flowId);
    const definition = detail.draft?.definition ?? emptyDefinition();
    // The graph is in the store before the canvas first renders, so its initial fit sees it.
    useEditor.getState().load(definition);
    setFlow(detail);
    draft.reset(flowId, detail.draft?.revision ?? detail.latest_revision ?? null, detail.draft?.saves ?? null, definition);
    const kept = readBackup(flowId);
    setBackup(kept && JSON.stringify(kept.definition) !== JSON.stringify(definition) ? kept : null);
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
      (error) => alive && setLoadError(errorText(error)),
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
      if (["dirty", "saving", "conflict"].includes(draft.state.getState().status)) event.preventDefault();
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

  // Ctrl+K (or ⌘K) searches blocks from anywhere in the editor.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        setSearchOpen(true);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

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

  const openPublish = async () => {
    setPublishErrors([]);
    setPublishCheck(null);
    setPublishOpen(true);
    try {
      await flush();
      const check = await endpoints.validate(flowId, useEditor.getState().toDefinition());
      useEditor.getState().setValidation([...check.errors, ...(check.warnings ?? [])], check.scope ?? {}, check.variables ?? {});
      setPublishCheck(check);
    } catch (error) {
      setPublishCheck({ valid: false, errors: [], warnings: [], scope: {} });
      setPublishErrors([{ code: "error", node_id: null, field: null, message: { "pt-BR": errorText(error, "pt-BR"), en: errorText(error, "en") } }]);
    }
  };

  const publish = async (choice: PublishChoice) => {
    setPublishing(true);
    setPublishErrors([]);
    try {
      const revision = await flush();
      if (revision === null) throw new Error(t("publish.nothing"));
      const published = await endpoints.publish(flowId, revision, choice.comment, choice);
      setFlow((current) => (current ? { ...current, ...published, draft: current.draft } : current));
      setPublishOpen(false);
      setHistoryKey((key) => key + 1);
      setNotice({ text: t("publish.done", { n: revision }), kind: "info" });
    } catch (error) {
      if (error instanceof ApiError && error.body.code === "confirmation_required") {
        setPublishCheck((current) => ({
          ...(current ?? { valid: true, errors: [], scope: {} }),
          warnings: error.body.warnings as ValidationError[],
          conflicts: error.body.conflicts as ValidationResult["conflicts"],
        }));
      } else if (error instanceof ApiError && Array.isArray(error.body.errors)) {
        setPublishErrors(error.body.errors as ValidationError[]);
      } else {
        setPublishErrors([{ code: "error", node_id: null, field: null, message: { "pt-BR": errorText(error, "pt-BR"), en: errorText(error, "en") } }]);
      }
    } finally {
      setPublishing(false);
    }
  };

  const restore = async (revision: number) => {
    setConfirmRestore(null);
    try {
      await draft.saveNow(); // what was typed before the restore stays a revision of its own
      const detail = await endpoints.revision(flowId, revision);
      // One undoable step: Ctrl+Z (or Undo in the notice) brings the replaced draft back.
      useEditor.getState().replaceDefinition(detail.definition);
      setPreview(null);
      await draft.saveNow({ checkpoint: true, comment: t("history.restoreComment", { n: revision }) });
      void validator.run();
      setHistoryKey((key) => key + 1);
      setNotice({ text: t("history.restoredUndo", { n: revision }), kind: "info", undo: true });
    } catch (error) {
      setNotice({ text: errorText(error), kind: "danger" });
    }
  };

  const saveVersion = async (comment: string) => {
    setSaveVersionOpen(false);
    try {
      await draft.saveNow({ checkpoint: true, comment });
      setHistoryKey((key) => key + 1);
    } catch (error) {
      setNotice({ text: errorText(error), kind: "danger" });
    }
  };

  const saveCopy = async () => {
    try {
      const created = await endpoints.createFlow(t("conflict.copyName", { name: flow?.name ?? "" }).slice(0, 200), flow?.description ?? "", useEditor.getState().toDefinition());
      draft.dropLocal();
      navigate(`/flows/${created.id}`);
    } catch (error) {
      setNotice({ text: errorText(error), kind: "danger" });
    }
  };

  const merge = async () => {
    try {
      const result = await draft.merge();
      if (!result) return;
      const revision = draft.state.getState().revision ?? "?";
      const overlap = result.overlaps.length ? ` ${t("conflict.mergedOverlap", { names: result.overlaps.join(", ") })}` : "";
      setNotice({ text: `${t("conflict.merged", { mine: result.applied, n: revision })}${overlap}`, kind: "info", undo: true });
      void validator.run();
    } catch (error) {
      setNotice({ text: errorText(error), kind: "danger" });
    }
  };

  if (loadError) return <p className="page-error" role="alert">{loadError}</p>;
  if (!flow) return <p className="muted page-loading">{t("common.loading")}</p>;
  const conflict = saveState.conflict;

  return (
    <div className="editor" data-testid="editor">
      <EditorToolbar
        flow={flow}
        saveStatus={saveState.status}
        draftRevision={saveState.revision}
        readOnly={readOnly}
        drawer={drawer}
        testOpen={testOpen}
        onDrawer={setDrawer}
        onTest={() => setTestOpen((open) => !open)}
        onSearch={() => setSearchOpen(true)}
        onAddNote={addNote}
        onSaveVersion={() => setSaveVersionOpen(true)}
        onRename={(name) =>
          endpoints.renameFlow(flowId, { name }).then(
            (renamed) => setFlow((current) => (current ? { ...current, name: renamed.name } : current)),
            (error) => setNotice({ text: `${t("rename.failed")}: ${errorText(error, language)}`, kind: "danger" }),
          )
        }
        extra={<RunsToolbarItems flowId={flowId} period={countsPeriod} onPeriod={setCountsPeriod} canEdit={!readOnly} />}
        onPublish={() => void openPublish()}
      />
      {saveState.status === "conflict" && conflict && (
        <div className="banner danger" role="alert" data-testid="conflict-banner" data-same-user={conflict.sameUser}>
          <strong>{conflict.sameUser ? t("conflict.sameUser") : t("conflict.otherUser", { author: conflict.author })}</strong>{" "}
          {t("conflict.bodyKept", { n: conflict.currentRevision ?? "?", at: formatDateTime(language, conflict.savedAt) })}
          <span className="banner-actions">
            <button type="button" className="primary" data-testid="conflict-merge" onClick={() => void merge()}>
              {t("conflict.merge")}
            </button>
            <button type="button" data-testid="conflict-copy" onClick={() => void saveCopy()}>
              {t("conflict.copy")}
            </button>
            <button
              type="button"
              data-testid="conflict-reload"
              onClick={() => {
                draft.dropLocal();
                void loadFlow();
              }}
            >
              {t("conflict.discard")}
            </button>
          </span>
        </div>
      )}
      {backup && saveState.status !== "conflict" && (
        <div className="banner warn" data-testid="backup-banner">
          {t("conflict.restoreLocal", { at: formatDateTime(language, backup.at) })}
          <button
            type="button"
            data-testid="backup-recover"
            onClick={() => {
              useEditor.getState().replaceDefinition(backup.definition);
              setBackup(null);
            }}
          >
            {t("conflict.restoreLocalButton")}
          </button>
          <button
            type="button"
            onClick={() => {
              draft.dropLocal();
              setBackup(null);
            }}
          >
            {t("conflict.dropLocal")}
          </button>
        </div>
      )}
      {saveState.status === "error" && (
        <div className="banner warn" role="alert" data-testid="save-error">
          {t("save.error")}: {saveState.lastError}
          <button type="button" onClick={() => { draft.state.setState({ status: "dirty" }); void draft.saveNow(); }}>
            {t("common.retry")}
          </button>
        </div>
      )}
      {notice && (
        <div className={`banner ${notice.kind}`} data-testid="notice" role={notice.kind === "danger" ? "alert" : undefined}>
          {notice.text}
          {notice.undo && (
            <button
              type="button"
              data-testid="notice-undo"
              onClick={() => {
                useEditor.getState().undo();
                setNotice(null);
              }}
            >
              ↶ {t("history.undo")}
            </button>
          )}
          <button type="button" className="icon-button" aria-label={t("common.close")} onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      <div className={`editor-body${testOpen ? " with-test" : ""}`}>
        <Palette specs={specs} onAdd={addAtCenter} readOnly={readOnly} />
        <main className="canvas-column">
          <PathCountsLayer flowId={flowId} period={countsPeriod}>
            <Canvas readOnly={readOnly} />
          </PathCountsLayer>
          {preview !== null && (
            <RevisionPreview
              flowId={flowId}
              revision={preview}
              compareWith={saveState.revision !== preview ? saveState.revision : null}
              specs={specs}
              readOnly={readOnly}
              onRestore={(revision) => setConfirmRestore(revision)}
              onClose={() => setPreview(null)}
            />
          )}
          <ProblemsPanel />
        </main>
        <SidePanel readOnly={readOnly} />
        {testOpen && <TestRunPanel flowId={flowId} beforeStart={flush} onClose={() => setTestOpen(false)} />}
        {drawer === "history" && (
          <HistoryPanel
            flowId={flowId}
            currentRevision={saveState.revision}
            refreshKey={historyKey}
            previewing={preview}
            onPreview={setPreview}
            onClose={() => {
              setDrawer("none");
              setPreview(null);
            }}
          />
        )}
      </div>
      {publishOpen && (
        <PublishDialog
          check={publishCheck}
          onPublish={(choice) => void publish(choice)}
          onClose={() => setPublishOpen(false)}
          onPick={(nodeId) => {
            setPublishOpen(false);
            focus(nodeId);
          }}
          errors={publishErrors}
          busy={publishing}
          upToDate={saveState.status === "saved" && saveState.revision === flow.published_revision}
        />
      )}
      {searchOpen && <SearchDialog onClose={() => setSearchOpen(false)} />}
      {confirmRestore !== null && (
        <Confirm
          title={t("history.confirmTitle", { n: confirmRestore })}
          body={t("history.confirmBody", { n: confirmRestore })}
          confirm={t("history.confirm")}
          onConfirm={() => void restore(confirmRestore)}
          onCancel={() => setConfirmRestore(null)}
        />
      )}
      {saveVersionOpen && <SaveVersionDialog onSave={(comment) => void saveVersion(comment)} onCancel={() => setSaveVersionOpen(false)} />}
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
