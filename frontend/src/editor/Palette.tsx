// Every node type from GET /api/node-types/, grouped by the served categories in their order;
// drag one onto the canvas (or press Enter / double-click to drop it in the middle of the view).
import type { NodeTypeSpec } from "../api/types";
import { useT } from "../i18n";
import { orderedSpecs } from "./QuickAdd";

export const DRAG_MIME = "application/x-fluxo-node-type";

export function Palette({ specs, onAdd, readOnly }: { specs: NodeTypeSpec[]; onAdd: (key: string) => void; readOnly: boolean }) {
  const { t, label } = useT();
  const ordered = orderedSpecs(specs);
  const categories = [...new Map(ordered.map((spec) => [spec.category, spec.category_info])).entries()];
  return (
    <aside className="palette" aria-label={t("editor.palette")}>
      <h2>{t("editor.palette")}</h2>
      {categories.map(([category, info]) => (
        <section key={category}>
          <h3>{label(info?.label, category)}</h3>
          {ordered
            .filter((spec) => spec.category === category)
            .map((spec) => (
              <button
                type="button"
                key={spec.key}
                className="palette-item"
                data-testid={`palette-${spec.key}`}
                title={label(spec.description)}
                draggable={!readOnly}
                disabled={readOnly}
                onDragStart={(event) => {
                  event.dataTransfer.setData(DRAG_MIME, spec.key);
                  event.dataTransfer.effectAllowed = "move";
                }}
                // Keyboard activation (detail 0) adds the block in the middle of the view; mouse users drag.
                onClick={(event) => event.detail === 0 && onAdd(spec.key)}
                onDoubleClick={() => onAdd(spec.key)}
              >
                <span aria-hidden>{spec.glyph}</span> {label(spec.label, spec.key)}
              </button>
            ))}
        </section>
      ))}
    </aside>
  );
}
