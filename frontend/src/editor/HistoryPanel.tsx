import { useEffect, useState } from "react";
import { endpoints } from "../api/endpoints";
import type { RevisionSummary } from "../api/types";
import { formatDateTime, useT } from "../i18n";

/** Revisions newest first; restoring one makes it the new draft (a new revision on the server). */
export function HistoryPanel({
  flowId,
  currentRevision,
  onRestore,
  onClose,
  readOnly,
}: {
  flowId: number;
  currentRevision: number | null;
  onRestore: (revision: number) => Promise<void>;
  onClose: () => void;
  readOnly: boolean;
}) {
  const { t, language } = useT();
  const [revisions, setRevisions] = useState<RevisionSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  useEffect(() => {
    let alive = true;
    endpoints.revisions(flowId).then(
      (list) => alive && setRevisions([...list].sort((a, b) => b.revision - a.revision)),
      (failure: Error) => alive && setError(failure.message),
    );
    return () => {
      alive = false;
    };
  }, [flowId, currentRevision]);

  return (
    <aside className="drawer" data-testid="history-panel" aria-label={t("history.title")}>
      <header>
        <h2>{t("history.title")}</h2>
        <button type="button" className="icon-button" aria-label={t("common.close")} onClick={onClose}>
          ×
        </button>
      </header>
      {error && <p className="field-errors">{error}</p>}
      {!revisions && !error && <p className="muted">{t("common.loading")}</p>}
      <ol className="revisions">
        {revisions?.map((revision) => (
          <li key={revision.revision} data-testid={`revision-${revision.revision}`}>
            <div>
              <strong>#{revision.revision}</strong> {revision.is_published && <span className="pill ok">{t("history.published")}</span>}
              {revision.revision === currentRevision && <span className="pill">{t("history.current")}</span>}
            </div>
            <div className="muted small">
              {revision.author ?? "—"} · {formatDateTime(language, revision.created_at)}
            </div>
            {revision.comment && <div className="small">“{revision.comment}”</div>}
            {revision.revision !== currentRevision && !readOnly && (
              <button
                type="button"
                data-testid={`restore-${revision.revision}`}
                disabled={busy !== null}
                onClick={async () => {
                  setBusy(revision.revision);
                  try {
                    await onRestore(revision.revision);
                  } finally {
                    setBusy(null);
                  }
                }}
              >
                {busy === revision.revision ? t("common.working") : t("history.restore")}
              </button>
            )}
          </li>
        ))}
      </ol>
    </aside>
  );
}
