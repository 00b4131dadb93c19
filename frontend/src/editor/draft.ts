// Draft autosave: every edit bumps the editor store's `version`; after a pause the definition is
// POSTed as a new revision with base_revision = the revision this editor last saw. A 409 means
// somebody else saved in between: we stop saving and say so, rather than overwrite their work.
import { create } from "zustand";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { EditorStore } from "./store";

export type SaveStatus = "saved" | "dirty" | "saving" | "error" | "conflict";

export interface Conflict {
  author: string;
  savedAt: string;
  currentRevision: number | null;
}

interface DraftState {
  flowId: number | null;
  revision: number | null;
  status: SaveStatus;
  conflict: Conflict | null;
  lastError: string | null;
  /** The store version the last successful save contained. */
  savedVersion: number;
}

export const AUTOSAVE_DELAY_MS = 1200;

/** Who saved in between, from a 409 stale_revision answer. */
export function conflictFrom(error: ApiError): Conflict {
  const body = error.body;
  return {
    author: String(body.author ?? "?"),
    savedAt: String(body.saved_at ?? ""),
    currentRevision: typeof body.current_revision === "number" ? body.current_revision : null,
  };
}

export function createDraftController(editor: EditorStore) {
  const state = create<DraftState>(() => ({
    flowId: null,
    revision: null,
    status: "saved",
    conflict: null,
    lastError: null,
    savedVersion: 0,
  }));
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight: Promise<void> | null = null;

  const cancelTimer = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  // Browsers cap keepalive request bodies at 64 KB; bigger drafts rely on the unload warning.
  const KEEPALIVE_LIMIT = 60_000;

  const saveNow = async ({ leaving = false }: { leaving?: boolean } = {}): Promise<void> => {
    cancelTimer();
    if (inFlight) {
      await inFlight;
      // Edits made while the previous save ran still need their own save.
    }
    const draft = state.getState();
    const version = editor.getState().version;
    if (draft.flowId === null || draft.status === "conflict" || version === draft.savedVersion) return;
    state.setState({ status: "saving" });
    const definition = editor.getState().toDefinition();
    inFlight = (async () => {
      try {
        // When the page is going away, keepalive lets the request outlive it.
        const keepalive = leaving && JSON.stringify(definition).length < KEEPALIVE_LIMIT;
        const saved = await endpoints.saveRevision(draft.flowId!, definition, draft.revision, { keepalive });
        const stillDirty = editor.getState().version !== version;
        state.setState({ revision: saved.revision, savedVersion: version, status: stillDirty ? "dirty" : "saved", lastError: null });
        if (stillDirty) schedule();
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          state.setState({ status: "conflict", conflict: conflictFrom(error) });
        } else {
          state.setState({ status: "error", lastError: error instanceof Error ? error.message : String(error) });
        }
      } finally {
        inFlight = null;
      }
    })();
    await inFlight;
  };

  const schedule = () => {
    cancelTimer();
    timer = setTimeout(() => void saveNow(), AUTOSAVE_DELAY_MS);
  };

  const onEditorChange = (current: { version: number }, previous: { version: number }) => {
    if (current.version === previous.version) return;
    const draft = state.getState();
    if (draft.flowId === null || draft.status === "conflict") return;
    if (current.version === draft.savedVersion) return;
    state.setState({ status: "dirty" });
    schedule();
  };
  let unsubscribe: (() => void) | null = null;

  return {
    state,
    /** Start tracking a freshly loaded flow (call after editor.load()). */
    reset(flowId: number, revision: number | null) {
      cancelTimer();
      state.setState({ flowId, revision, status: "saved", conflict: null, lastError: null, savedVersion: editor.getState().version });
    },
    /** The server now holds `revision` with the editor's current content (e.g. after a restore). */
    adopt(revision: number) {
      state.setState({ revision, savedVersion: editor.getState().version, status: "saved", conflict: null });
    },
    saveNow,
    /** Watch the editor for changes (idempotent; pairs with dispose()). */
    start() {
      unsubscribe ??= editor.subscribe(onEditorChange);
    },
    /** Stop watching; edits still waiting for the autosave pause are saved now, not dropped. */
    dispose() {
      const pending = timer !== null;
      cancelTimer();
      unsubscribe?.();
      unsubscribe = null;
      if (pending) void saveNow();
    },
  };
}

export type DraftController = ReturnType<typeof createDraftController>;
