import { useEffect, useState } from "react";
import { errorText } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { RevisionSummary } from "../api/types";
import { formatDateTime, useT } from "../i18n";

/** What changed in a revision, in words: "+2 · −1 · ~3". */
export function DiffChips({ diff }: { diff: RevisionSummary["diff"] }) {
  const { t } = useT();
  if (!diff) return null;
  const parts = [
    diff.added > 0 && <span key="a" className="chip added">+{diff.added} {t("history.added")}</span>,
    diff.removed > 0 && <span key="r" className="chip removed">−{diff.removed} {t("history.removed")}</span>,
    diff.changed > 0 && <span key="c" className="chip changed">~{diff.changed} {t("history.changed")}</span>,
  ].filter(Boolean);
  return <div className="diff-chips">{parts.length ? parts : <span className="muted small">{t("history.noChanges")}</span>}</div>;
}

/** Revisions newest first: author, time, comment, publications and what changed; "Ver" previews one. */
export function HistoryPanel({
  flowId,
  currentRevision,
  refreshKey,
  onPreview,
  onClose,
  previewing,
}: {
  flowId: number;
  currentRevision: number | null;
  refreshKey: unknown;
  onPreview: (revision: number) => void;
  onClose: () => void;
  previewing: number | null;
}) {
  const { t, language } = useT();
  const [revisions, setRevisions] = useState<RevisionSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    endpoints.revisions(flowId).then(
      (list) => alive && setRevisions([...list].sort((a, b) => b.revision - a.revision)),
      (failure) => alive && setError(errorText(failure)),
    );
    return () => {
      alive = false;
    };
  }, [flowId, currentRevision, refreshKey]);

  return (
    <aside className="drawer history" data-testid="history-panel" aria-label={t("history.title")}>
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
          <li key={revision.revision} data-testid={`revision-${revision.revision}`} className={previewing === revision.revision ? "previewing" : undefined}>
            <div className="revision-head">
              <strong>#{revision.revision}</strong>
              {revision.is_published && <span className="pill ok">{t("history.published")}</span>}
              {revision.revision === currentRevision && <span className="pill">{t("history.current")}</span>}
              <span className="spacer" />
              <button type="button" className="small-button" data-testid={`preview-${revision.revision}`} onClick={() => onPreview(revision.revision)}>
                {t("history.preview")}
              </button>
            </div>
            <div className="muted small">
              {revision.author ?? "—"} · {formatDateTime(language, revision.updated_at ?? revision.created_at)}
              {(revision.saves ?? 1) > 1 && <> · {t("history.autosaves", { n: revision.saves ?? 1 })}</>}
            </div>
            {revision.comment && <div className="small comment">“{revision.comment}”</div>}
            {(revision.publications ?? []).map((publication, index) => (
              <div key={index} className="small publication">
                ✓ {t("history.publishedBy", { by: publication.by ?? "—" })} · {formatDateTime(language, publication.at)}
                {publication.comment && <> — “{publication.comment}”</>}
              </div>
            ))}
            <DiffChips diff={revision.diff} />
          </li>
        ))}
      </ol>
    </aside>
  );
}
