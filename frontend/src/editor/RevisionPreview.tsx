// A revision shown read-only on its own canvas, its blocks marked by what changed since the
// previous revision (new, changed; removed ones listed), with "Restore this revision".
import { ReactFlowProvider } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { errorText } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { DefinitionDiff, NodeTypeSpec } from "../api/types";
import { useT } from "../i18n";
import { Canvas } from "./Canvas";
import { EditorStoreProvider } from "./context";
import { createEditorStore } from "./store";

export function RevisionPreview({
  flowId,
  revision,
  compareWith,
  specs,
  readOnly,
  onRestore,
  onClose,
}: {
  flowId: number;
  revision: number;
  /** The revision to diff against: the current draft (what restoring would change); null: the previous one. */
  compareWith: number | null;
  specs: NodeTypeSpec[];
  readOnly: boolean;
  onRestore: (revision: number) => void;
  onClose: () => void;
}) {
  const { t, label } = useT();
  const store = useMemo(() => createEditorStore(), []);
  const [diff, setDiff] = useState<DefinitionDiff | null>(null);
  const [compared, setCompared] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    let alive = true;
    setLoaded(false);
    endpoints.revision(flowId, revision, compareWith ?? undefined).then(
      (detail) => {
        if (!alive) return;
        store.getState().setNodeTypes(specs);
        store.getState().load({ ...detail.definition, ui: { ...detail.definition.ui, viewport: undefined } });
        const marks: Record<string, "added" | "changed"> = {};
        for (const node of detail.diff_full.added) marks[node.id] = "added";
        for (const node of detail.diff_full.changed) marks[node.id] = "changed";
        store.getState().setDiffMarks(marks);
        setDiff(detail.diff_full);
        setCompared(detail.compared_with);
        setLoaded(true);
      },
      (failure) => alive && setError(errorText(failure)),
    );
    return () => {
      alive = false;
    };
  }, [flowId, revision, compareWith, specs, store]);

  const name = (value: string | Record<string, string>) => (typeof value === "string" ? value : label(value as never));
  return (
    <section className="revision-preview" data-testid="revision-preview" aria-label={t("history.previewTitle", { n: revision })}>
      <header>
        <strong>{t("history.previewTitle", { n: revision })}</strong>
        <span className="muted small">{compared ? t("history.comparedWith", { n: compared }) : t("history.firstRevision")}</span>
        <span className="legend small">
          <span className="swatch added" /> {t("history.legendAdded")} <span className="swatch changed" /> {t("history.legendChanged")}
        </span>
        <span className="spacer" />
        {!readOnly && (
          <button type="button" className="primary" data-testid="preview-restore" disabled={!loaded} onClick={() => onRestore(revision)}>
            {t("history.restoreThis")}
          </button>
        )}
        <button type="button" data-testid="preview-close" onClick={onClose}>
          {t("history.close")}
        </button>
      </header>
      {error && <p className="field-errors">{error}</p>}
      {diff && (diff.removed.length > 0 || diff.changed.length > 0) && (
        <p className="small diff-lists" data-testid="preview-diff">
          {diff.changed.length > 0 && (
            <>
              <strong>{t("history.changed")}:</strong> {diff.changed.map((node) => name(node.name)).join(", ")}{" "}
            </>
          )}
          {diff.removed.length > 0 && (
            <>
              <strong>{t("history.removedList")}:</strong> {diff.removed.map((node) => name(node.name)).join(", ")}
            </>
          )}
        </p>
      )}
      {loaded && (
        <EditorStoreProvider store={store}>
          <ReactFlowProvider>
            <Canvas readOnly fitOnOpen />
          </ReactFlowProvider>
        </EditorStoreProvider>
      )}
    </section>
  );
}
