import { useState } from "react";
import type { ValidationError } from "../api/types";
import { useT } from "../i18n";

/** Asks for a comment; shows the server's reasons when the graph cannot be published. */
export function PublishDialog({
  onPublish,
  onClose,
  errors,
  busy,
}: {
  onPublish: (comment: string) => void;
  onClose: () => void;
  errors: ValidationError[];
  busy: boolean;
}) {
  const { t, label } = useT();
  const [comment, setComment] = useState("");
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="dialog"
        aria-label={t("publish.title")}
        data-testid="publish-dialog"
        onSubmit={(event) => {
          event.preventDefault();
          onPublish(comment.trim());
        }}
      >
        <h2>{t("publish.title")}</h2>
        <label className="field">
          <span>{t("publish.comment")}</span>
          <textarea
            data-testid="publish-comment"
            required
            autoFocus
            rows={3}
            value={comment}
            placeholder={t("publish.commentPlaceholder")}
            onChange={(event) => setComment(event.target.value)}
          />
        </label>
        {errors.length > 0 && (
          <div className="publish-errors" role="alert" data-testid="publish-errors">
            <p>{t("publish.invalid")}</p>
            <ul>
              {errors.map((error, index) => (
                <li key={index}>{label(error.message, error.code)}</li>
              ))}
            </ul>
          </div>
        )}
        <footer>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" className="primary" data-testid="publish-confirm" disabled={busy || !comment.trim()}>
            {busy ? t("common.working") : t("publish.confirm")}
          </button>
        </footer>
      </form>
    </div>
  );
}
