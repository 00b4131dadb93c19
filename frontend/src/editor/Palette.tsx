// Every node type from GET /api/node-types/, grouped by category; drag one onto the canvas
// (or click it to drop it in the middle of the view).
import type { NodeTypeSpec } from "../api/types";
import { useT } from "../i18n";
import { iconFor } from "../nodes/icons";

export const DRAG_MIME = "application/x-fluxo-node-type";
const CATEGORY_ORDER = ["trigger", "messaging", "flow", "routing", "data", "ai", "integration"];

export function Palette({ specs, onAdd, readOnly }: { specs: NodeTypeSpec[]; onAdd: (key: string) => void; readOnly: boolean }) {
  const { t, tOptional, label } = useT();
  const categories = [...new Set(specs.map((spec) => spec.category))].sort(
    (a, b) => (CATEGORY_ORDER.indexOf(a) + 99) % 99 - (CATEGORY_ORDER.indexOf(b) + 99) % 99,
  );
  return (
    <aside className="palette" aria-label={t("editor.palette")}>
      <h2>{t("editor.palette")}</h2>
      {categories.map((category) => (
        <section key={category}>
          <h3>{tOptional(`category.${category}`) ?? category}</h3>
          {specs
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
                <span aria-hidden>{iconFor(spec.icon)}</span> {label(spec.label, spec.key)}
              </button>
            ))}
        </section>
      ))}
    </aside>
  );
}
