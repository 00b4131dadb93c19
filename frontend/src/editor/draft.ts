// Draft autosave. Every edit bumps the editor store's `version`; after a pause the definition is
// saved for this tab's editing session (flows/drafts.py coalesces a session's saves into one
// revision) with the revision and save count this tab last saw. A 409 means someone — another
// person, or this person in another tab — saved in between: saving stops, nothing is
// overwritten, and nothing typed is lost (it stays on screen and in this browser's storage) until
// the person merges, saves a copy or discards it.
import { create } from "zustand";
import { ApiError, errorText } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { FlowDefinition } from "../api/types";
import { mergeDefinitions, type MergeResult } from "./merge";
import type { EditorStore } from "./store";

export type SaveStatus = "saved" | "dirty" | "saving" | "error" | "conflict";

export interface Conflict {
  author: string;
  authorId: number | null;
  session: string;
  savedAt: string;
  currentRevision: number | null;
  currentSaves: number | null;
  /** The same person saved from another tab or window (not someone else). */
  sameUser: boolean;
}

interface DraftState {
  flowId: number | null;
  revision: number | null;
  saves: number | null;
  status: SaveStatus;
  conflict: Conflict | null;
  lastError: string | null;
  /** The store version the last successful save contained. */
  savedVersion: number;
  /** What the server held when this tab last loaded or saved: the base of a merge. */
  base: FlowDefinition | null;
}

export const AUTOSAVE_DELAY_MS = 1200;

function newSession(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `s${Date.now()}${Math.random()}`;
}

export const backupKey = (flowId: number) => `fluxo.draft.${flowId}`;

export interface LocalBackup {
  definition: FlowDefinition;
  at: string;
  revision: number | null;
}

export function readBackup(flowId: number): LocalBackup | null {
  try {
    const raw = localStorage.getItem(backupKey(flowId));
    return raw ? (JSON.parse(raw) as LocalBackup) : null;
  } catch {
    return null;
  }
}

/** Who saved in between, from a 409 stale_revision answer. */
export function conflictFrom(error: ApiError, me: { userId?: number | null; session?: string } = {}): Conflict {
  const body = error.body;
  const authorId = typeof body.author_id === "number" ? body.author_id : null;
  const session = String(body.session ?? "");
  return {
    author: String(body.author ?? "?"),
    authorId,
    session,
    savedAt: String(body.saved_at ?? ""),
    currentRevision: typeof body.current_revision === "number" ? body.current_revision : null,
    currentSaves: typeof body.current_saves === "number" ? body.current_saves : null,
    sameUser: authorId !== null && authorId === me.userId && session !== me.session,
  };
}

export function createDraftController(editor: EditorStore, options: { userId?: number | null } = {}) {
  const session = newSession();
  const state = create<DraftState>(() => ({
    flowId: null,
    revision: null,
    saves: null,
    status: "saved",
    conflict: null,
    lastError: null,
    savedVersion: 0,
    base: null,
  }));
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight: Promise<void> | null = null;

  const cancelTimer = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  const keepLocally = () => {
    const { flowId, revision } = state.getState();
    if (flowId === null) return;
    try {
      const backup: LocalBackup = { definition: editor.getState().toDefinition(), at: new Date().toISOString(), revision };
      localStorage.setItem(backupKey(flowId), JSON.stringify(backup));
    } catch {
      /* storage full or disabled: the content is still on screen */
    }
  };
  const dropLocal = () => {
    const { flowId } = state.getState();
    if (flowId !== null) localStorage.removeItem(backupKey(flowId));
  };

  // Browsers cap keepalive request bodies at 64 KB; bigger drafts rely on the unload warning.
  const KEEPALIVE_LIMIT = 60_000;

  const saveNow = async ({ leaving = false, checkpoint = false, comment = "" }: { leaving?: boolean; checkpoint?: boolean; comment?: string } = {}): Promise<void> => {
    cancelTimer();
    if (inFlight) {
      await inFlight;
      // Edits made while the previous save ran still need their own save.
    }
    const draft = state.getState();
    const version = editor.getState().version;
    if (draft.flowId === null || draft.status === "conflict") return;
    if (version === draft.savedVersion && !checkpoint) return;
    state.setState({ status: "saving" });
    const definition = editor.getState().toDefinition();
    inFlight = (async () => {
      try {
        // When the page is going away, keepalive lets the request outlive it.
        const keepalive = leaving && JSON.stringify(definition).length < KEEPALIVE_LIMIT;
        const saved = await endpoints.saveRevision(draft.flowId!, definition, draft.revision, {
          keepalive,
          session,
          baseSaves: draft.saves,
          checkpoint,
          comment,
        });
        const stillDirty = editor.getState().version !== version;
        state.setState({
          revision: saved.revision,
          saves: saved.saves ?? null,
          savedVersion: version,
          status: stillDirty ? "dirty" : "saved",
          lastError: null,
          base: definition,
        });
        if (stillDirty) schedule();
        else dropLocal();
      } catch (error) {
        keepLocally();
        if (error instanceof ApiError && error.status === 409) {
          state.setState({ status: "conflict", conflict: conflictFrom(error, { userId: options.userId, session }) });
        } else {
          state.setState({ status: "error", lastError: errorText(error) });
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
    session,
    /** Start tracking a freshly loaded flow (call after editor.load()). */
    reset(flowId: number, revision: number | null, saves: number | null = null, base: FlowDefinition | null = null) {
      cancelTimer();
      state.setState({ flowId, revision, saves, status: "saved", conflict: null, lastError: null, savedVersion: editor.getState().version, base });
    },
    /** The server now holds `revision` with the editor's current content (e.g. after a restore). */
    adopt(revision: number, saves: number | null = null) {
      state.setState({ revision, saves, savedVersion: editor.getState().version, status: "saved", conflict: null, base: editor.getState().toDefinition() });
    },
    saveNow,
    /** After a conflict: apply this tab's changes on top of what was saved meanwhile, then save. */
    async merge(): Promise<MergeResult | null> {
      const { flowId, base } = state.getState();
      if (flowId === null) return null;
      const latest = await endpoints.flow(flowId);
      const theirs = latest.draft?.definition;
      if (!latest.draft || !theirs) return null;
      const result = mergeDefinitions(base ?? theirs, editor.getState().toDefinition(), theirs);
      editor.getState().replaceDefinition(result.definition);
      state.setState({ revision: latest.draft.revision, saves: latest.draft.saves ?? null, status: "dirty", conflict: null, base: theirs });
      await saveNow();
      return result;
    },
    dropLocal,
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
