import { useState } from "react";
import type { ValidationError, ValidationResult } from "../api/types";
import { useT } from "../i18n";
import { blockName } from "./names";
import { useEditor } from "./store";

export interface PublishChoice {
  comment: string;
  acceptWarnings: boolean;
  decisions: Record<string, "allow" | "replace">;
}

function IssueList({ issues, testId, onPick }: { issues: ValidationError[]; testId: string; onPick: (nodeId: string) => void }) {
  const { label, language, t } = useT();
  const nodes = useEditor((state) => state.nodes);
  const nodeTypes = useEditor((state) => state.nodeTypes);
  return (
    <ul data-testid={testId}>
      {issues.map((issue, index) => {
        const node = nodes.find((candidate) => candidate.id === issue.node_id);
        return (
          <li key={index} data-code={issue.code}>
            <button type="button" className="link" disabled={!issue.node_id} onClick={() => issue.node_id && onPick(issue.node_id)}>
              <strong>{node ? blockName(node, nodeTypes, language) : t("problems.flow")}</strong>
            </button>
            {": "}
            {label(issue.message, issue.code)}
          </li>
        );
      })}
    </ul>
  );
}

/** Asks for a comment; shows what blocks publishing (errors), what needs a confirmation (warnings,
 * the WhatsApp policy) and, for another active flow on the same event, keep both or replace it. */
export function PublishDialog({
  check,
  onPublish,
  onClose,
  onPick,
  errors,
  busy,
  upToDate,
}: {
  check: ValidationResult | null;
  onPublish: (choice: PublishChoice) => void;
  onClose: () => void;
  onPick: (nodeId: string) => void;
  errors: ValidationError[];
  busy: boolean;
  upToDate: boolean;
}) {
  const { t, label } = useT();
  const [comment, setComment] = useState("");
  const [accepted, setAccepted] = useState(false);
  const [decisions, setDecisions] = useState<Record<string, "allow" | "replace">>({});
  const blocking = [...(check?.errors ?? []), ...errors];
  const warnings = (check?.warnings ?? []).filter((warning) => warning.code !== "policy_same_event");
  const conflicts = check?.conflicts ?? [];
  const decided = conflicts.every((conflict) => decisions[String(conflict.flow_id)]);
  const ready = Boolean(check) && blocking.length === 0 && (warnings.length === 0 || accepted) && decided && comment.trim() !== "";
  return (
    <div className="modal-backdrop">
      <form
        className="modal publish-modal"
        role="dialog"
        aria-label={t("publish.title")}
        data-testid="publish-dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (ready) onPublish({ comment: comment.trim(), acceptWarnings: accepted || warnings.length === 0, decisions });
        }}
      >
        <h2>{t("publish.title")}</h2>
        {upToDate && <p className="muted small" data-testid="publish-up-to-date">{t("publish.upToDate")}</p>}
        {!check && <p className="muted">{t("publish.checking")}</p>}
        {blocking.length > 0 && (
          <div className="publish-errors" role="alert" data-testid="publish-errors">
            <p>{t("publish.errorsTitle")}</p>
            <IssueList issues={blocking} testId="publish-error-list" onPick={onPick} />
          </div>
        )}
        {warnings.length > 0 && (
          <div className="publish-warnings" data-testid="publish-warnings">
            <p>{t("publish.warningsTitle")}</p>
            <IssueList issues={warnings} testId="publish-warning-list" onPick={onPick} />
            <label className="checkbox-line">
              <input type="checkbox" data-testid="publish-accept-warnings" checked={accepted} onChange={(event) => setAccepted(event.target.checked)} />
              {t("publish.acceptWarnings")}
            </label>
          </div>
        )}
        {conflicts.map((conflict) => (
          <fieldset className="publish-conflict" key={conflict.flow_id} data-testid={`publish-conflict-${conflict.flow_id}`}>
            <legend>{t("publish.conflictTitle")}</legend>
            <p className="small">
              “{conflict.flow_name}” · {label(conflict.event_label)}
            </p>
            <label className="checkbox-line">
              <input
                type="radio"
                name={`conflict-${conflict.flow_id}`}
                data-testid={`conflict-allow-${conflict.flow_id}`}
                checked={decisions[String(conflict.flow_id)] === "allow"}
                onChange={() => setDecisions({ ...decisions, [String(conflict.flow_id)]: "allow" })}
              />
              {t("publish.conflictAllow")}
            </label>
            <label className="checkbox-line">
              <input
                type="radio"
                name={`conflict-${conflict.flow_id}`}
                data-testid={`conflict-replace-${conflict.flow_id}`}
                checked={decisions[String(conflict.flow_id)] === "replace"}
                onChange={() => setDecisions({ ...decisions, [String(conflict.flow_id)]: "replace" })}
              />
              {t("publish.conflictReplace", { flow: conflict.flow_name })}
            </label>
          </fieldset>
        ))}
        {check && blocking.length === 0 && warnings.length === 0 && conflicts.length === 0 && (
          <p className="ok-line small" data-testid="publish-ok">✓ {t("publish.ok")}</p>
        )}
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
        <footer>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button type="submit" className="primary" data-testid="publish-confirm" disabled={busy || !ready}>
            {busy ? t("common.working") : t("publish.confirm")}
          </button>
        </footer>
      </form>
    </div>
  );
}
