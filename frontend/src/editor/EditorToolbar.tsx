import { useReactFlow } from "@xyflow/react";
import { useState, type ReactNode } from "react";
import type { FlowDetail } from "../api/types";
import { useT } from "../i18n";
import { Link } from "../router";
import type { SaveStatus } from "./draft";
import { useEditor } from "./store";

export type Drawer = "none" | "history";

function SaveIndicator({ status, revision }: { status: SaveStatus; revision: number | null }) {
  const { t } = useT();
  return (
    <span className="save-line">
      <span className={`save-status ${status}`} data-testid="save-status" data-status={status}>
        {t(`save.${status}`)}
      </span>
      {revision !== null && (
        <span className="muted small" data-testid="draft-revision" title={t("editor.draftRev", { n: revision })}>
          #{revision}
        </span>
      )}
    </span>
  );
}

/** The flow name; click to rename (Enter or leaving the field saves, Escape cancels). */
function FlowTitle({ name, readOnly, onRename }: { name: string; readOnly: boolean; onRename: (name: string) => void }) {
  const { t } = useT();
  const [editing, setEditing] = useState<string | null>(null);
  if (editing === null) {
    return (
      <h1 data-testid="flow-name" className="flow-name">
        <button type="button" className="flow-title" title={`${name} — ${t("editor.rename")}`} disabled={readOnly} onClick={() => setEditing(name)}>
          {name}
        </button>
      </h1>
    );
  }
  const finish = () => {
    const next = editing.trim();
    setEditing(null);
    if (next && next !== name) onRename(next);
  };
  return (
    <input
      autoFocus
      className="flow-name-input"
      aria-label={t("editor.rename")}
      data-testid="flow-name-input"
      value={editing}
      onChange={(event) => setEditing(event.target.value)}
      onBlur={finish}
      onKeyDown={(event) => {
        if (event.key === "Enter") finish();
        if (event.key === "Escape") setEditing(null);
      }}
    />
  );
}

/** The editor's toolbar: fits one row at 1280 px in both languages (tools are icons with tooltips). */
export function EditorToolbar({
  flow,
  saveStatus,
  draftRevision,
  readOnly,
  drawer,
  testOpen,
  onDrawer,
  onTest,
  onSearch,
  onAddNote,
  onPublish,
  onRename,
  extra,
  onSaveVersion,
}: {
  flow: FlowDetail;
  saveStatus: SaveStatus;
  draftRevision: number | null;
  readOnly: boolean;
  drawer: Drawer;
  testOpen: boolean;
  onDrawer: (drawer: Drawer) => void;
  onTest: () => void;
  onSearch: () => void;
  onAddNote: () => void;
  onPublish: () => void;
  onRename: (name: string) => void;
  /** Items other areas add to the toolbar (runs and path counts). */
  extra?: ReactNode;
  onSaveVersion: () => void;
}) {
  const { t } = useT();
  const view = useReactFlow();
  const canUndo = useEditor((state) => state.past.length > 0);
  const canRedo = useEditor((state) => state.future.length > 0);
  const upToDate = saveStatus === "saved" && draftRevision !== null && draftRevision === flow.published_revision;
  return (
    <header className="toolbar">
      <Link to="/flows" className="back">
        ← {t("nav.flows")}
      </Link>
      <FlowTitle name={flow.name} readOnly={readOnly} onRename={onRename} />
      <span className={`pill status-${flow.status}`}>{t(`status.${flow.status}`)}</span>
      <SaveIndicator status={saveStatus} revision={draftRevision} />
      <span className="spacer" />
      <div className="tool-group" role="group">
        <button type="button" className="tool" disabled={!canUndo || readOnly} onClick={() => useEditor.getState().undo()} title={`${t("editor.undo")} (Ctrl+Z)`} aria-label={t("editor.undo")} data-testid="undo">
          ↶
        </button>
        <button type="button" className="tool" disabled={!canRedo || readOnly} onClick={() => useEditor.getState().redo()} title={`${t("editor.redo")} (Ctrl+Y)`} aria-label={t("editor.redo")} data-testid="redo">
          ↷
        </button>
      </div>
      <div className="tool-group" role="group">
        <button type="button" className="tool" onClick={onSearch} title={t("toolbar.searchTitle")} aria-label={t("search.button")} data-testid="open-search">
          ⌕
        </button>
        <button
          type="button"
          className="tool"
          disabled={readOnly}
          data-testid="auto-layout"
          title={t("toolbar.layoutTitle")}
          aria-label={t("editor.autoLayout")}
          onClick={async () => {
            await useEditor.getState().layout();
            // Fit after React Flow has rendered the new positions.
            setTimeout(() => void view.fitView({ duration: 300, maxZoom: 1 }), 50);
          }}
        >
          ⊞
        </button>
        <button type="button" className="tool" onClick={() => void view.fitView({ duration: 300, maxZoom: 1 })} title={t("toolbar.fitTitle")} aria-label={t("editor.fitView")} data-testid="fit-view">
          ⤢
        </button>
        <button type="button" className="tool" disabled={readOnly} onClick={onAddNote} title={t("toolbar.noteTitle")} aria-label={t("editor.addNote")} data-testid="add-note">
          ✎
        </button>
      </div>
      {extra}
      <button type="button" onClick={() => onDrawer(drawer === "history" ? "none" : "history")} data-testid="open-history" aria-pressed={drawer === "history"}>
        {t("history.title")}
      </button>
      <button type="button" disabled={readOnly} onClick={onSaveVersion} title={t("toolbar.saveVersionTitle")} data-testid="save-version">
        {t("toolbar.saveVersion")}
      </button>
      <button type="button" disabled={readOnly} onClick={onTest} data-testid="open-test-run" aria-pressed={testOpen}>
        ▶ {t("test.button")}
      </button>
      <button
        type="button"
        className={upToDate ? undefined : "primary"}
        disabled={readOnly}
        onClick={onPublish}
        data-testid="publish"
        data-up-to-date={upToDate}
        title={upToDate ? t("toolbar.upToDateTitle") : undefined}
      >
        {upToDate ? `✓ ${t("toolbar.upToDate")}` : t("publish.button")}
      </button>
    </header>
  );
}
