// Which editor store the canvas components read. The editor page uses the app's one store; a
// read-only view (the history preview, a run shown on the canvas) gives its own to the same
// components: <EditorStoreProvider store={createEditorStore()}>…<Canvas readOnly />.
import { createContext, useContext, type ReactNode } from "react";
import { useStore } from "zustand";
import { useEditor, type EditorState, type EditorStore } from "./store";

const EditorStoreContext = createContext<EditorStore>(useEditor);

export function EditorStoreProvider({ store, children }: { store: EditorStore; children: ReactNode }) {
  return <EditorStoreContext.Provider value={store}>{children}</EditorStoreContext.Provider>;
}

/** The store of the nearest provider (the app's editor store by default). */
export function useEditorStoreApi(): EditorStore {
  return useContext(EditorStoreContext);
}

export function useEditorState<T>(selector: (state: EditorState) => T): T {
  return useStore(useEditorStoreApi(), selector);
}
