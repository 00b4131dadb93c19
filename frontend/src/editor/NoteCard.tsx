import { NodeResizer, type NodeProps } from "@xyflow/react";
import { memo, useState } from "react";
import { useT } from "../i18n";
import type { NoteNode } from "./graph";
import { useEditorState } from "./context";

/** A sticky note: free text on the canvas, saved in definition.ui.notes (the engine ignores it). */
function NoteCardView({ id, data, selected }: NodeProps<NoteNode>) {
  const { t } = useT();
  const updateNote = useEditorState((state) => state.updateNote);
  const [draft, setDraft] = useState(data.text);
  return (
    <div className="note-card" data-testid={`note-${id}`}>
      <NodeResizer isVisible={selected} minWidth={120} minHeight={60} />
      <textarea
        className="nodrag"
        aria-label={t("editor.note")}
        placeholder={t("editor.notePlaceholder")}
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        // One history entry per edit session, not per keystroke.
        onBlur={() => draft !== data.text && updateNote(id, draft)}
      />
    </div>
  );
}

export const NoteCard = memo(NoteCardView);
