import { useReactFlow } from "@xyflow/react";
import { useState, type ReactNode } from "react";
import type { FlowDetail } from "../api/types";
import { useT } from "../i18n";
import { Link } from "../router";
import type { SaveStatus } from "./draft";
import { useEditor } from "./store";

export type Drawer = "none" | "history" | "test";

function SaveIndicator({ status }: { status: SaveStatus }) {
  const { t } = useT();
  return (
    <span className={`save-status ${status}`} data-testid="save-status" data-status={status}>
      {t(`save.${status}`)}
    </span>
  );
}

/** The flow name; click to rename (Enter or leaving the field saves, Escape cancels). */
function FlowTitle({ name, readOnly, onRename }: { name: string; readOnly: boolean; onRename: (name: string) => void }) {
  const { t } = useT();
  const [editing, setEditing] = useState<string | null>(null);
  if (editing === null) {
    return (
      <h1 data-testid="flow-name">
        <button type="button" className="flow-title" title={t("editor.rename")} disabled={readOnly} onClick={() => setEditing(name)}>
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
      aria-label={t("editor.rename")}
      data-testid="flow-name-input"
      value={editing}
      maxLength={200}
      onChange={(event) => setEditing(event.target.value)}
      onBlur={finish}
      onKeyDown={(event) => {
        if (event.key === "Enter") finish();
        if (event.key === "Escape") setEditing(null);
      }}
    />
  );
}

export function EditorToolbar({
  flow,
  saveStatus,
  draftRevision,
  readOnly,
  drawer,
  onDrawer,
  onAddNote,
  onPublish,
  onRename,
  extra,
}: {
  flow: FlowDetail;
  saveStatus: SaveStatus;
  draftRevision: number | null;
  readOnly: boolean;
  drawer: Drawer;
  onDrawer: (drawer: Drawer) => void;
  onAddNote: () => void;
  onPublish: () => void;
  onRename: (name: string) => void;
  /** Items other areas add to the toolbar (runs and path counts). */
  extra?: ReactNode;
}) {
  const { t } = useT();
  const view = useReactFlow();
  const canUndo = useEditor((state) => state.past.length > 0);
  const canRedo = useEditor((state) => state.future.length > 0);
  const toggle = (which: Drawer) => onDrawer(drawer === which ? "none" : which);
  return (
    <header className="toolbar">
      <Link to="/flows" className="back">
        ← {t("nav.flows")}
      </Link>
      <FlowTitle name={flow.name} readOnly={readOnly} onRename={onRename} />
      <span className={`pill status-${flow.status}`}>{t(`status.${flow.status}`)}</span>
      {flow.published_revision && <span className="muted small">{t("list.publishedRev", { n: flow.published_revision })}</span>}
      <SaveIndicator status={saveStatus} />
      {draftRevision !== null && (
        <span className="muted small" data-testid="draft-revision">
          {t("editor.draftRev", { n: draftRevision })}
        </span>
      )}
      <span className="spacer" />
      <button type="button" disabled={!canUndo || readOnly} onClick={() => useEditor.getState().undo()} title="Ctrl+Z" data-testid="undo">
        ↶ {t("editor.undo")}
      </button>
      <button type="button" disabled={!canRedo || readOnly} onClick={() => useEditor.getState().redo()} title="Ctrl+Y" data-testid="redo">
        ↷ {t("editor.redo")}
      </button>
      <button
        type="button"
        disabled={readOnly}
        data-testid="auto-layout"
        onClick={() => {
          useEditor.getState().layout();
          // Fit after React Flow has rendered the new positions.
          setTimeout(() => void view.fitView({ duration: 300, maxZoom: 1 }), 50);
        }}
      >
        {t("editor.autoLayout")}
      </button>
      <button type="button" onClick={() => void view.fitView({ duration: 300, maxZoom: 1 })} data-testid="fit-view">
        {t("editor.fitView")}
      </button>
      <button type="button" disabled={readOnly} onClick={onAddNote} data-testid="add-note">
        {t("editor.addNote")}
      </button>
      {extra}
      <button type="button" onClick={() => toggle("history")} data-testid="open-history" aria-pressed={drawer === "history"}>
        {t("history.title")}
      </button>
      <button type="button" disabled={readOnly} onClick={() => toggle("test")} data-testid="open-test-run" aria-pressed={drawer === "test"}>
        ▶ {t("test.button")}
      </button>
      <button type="button" className="primary" disabled={readOnly} onClick={onPublish} data-testid="publish">
        {t("publish.button")}
      </button>
    </header>
  );
}
