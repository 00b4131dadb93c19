// The palette that "+" on an output port (or a connection dropped on empty canvas) opens: type to
// filter, arrows and Enter to pick; the block arrives connected to that port and placed beside it.
import { useReactFlow } from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import type { NodeTypeSpec } from "../api/types";
import { pickLabel, useT } from "../i18n";
import { useEditorState, useEditorStoreApi } from "./context";
import type { QuickAddRequest } from "./store";

function fold(text: string): string {
  return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

export function orderedSpecs(specs: NodeTypeSpec[]): NodeTypeSpec[] {
  return [...specs].sort(
    (a, b) => (a.category_info?.order ?? 99) - (b.category_info?.order ?? 99) || a.key.localeCompare(b.key),
  );
}

export function QuickAdd({ request }: { request: QuickAddRequest }) {
  const { t, label, language } = useT();
  const store = useEditorStoreApi();
  const nodeTypes = useEditorState((state) => state.nodeTypes);
  const [query, setQuery] = useState("");
  const [highlight, setHighlight] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const choices = useMemo(() => {
    const needle = fold(query.trim());
    return orderedSpecs(Object.values(nodeTypes)).filter(
      (spec) =>
        !spec.is_trigger &&
        (!needle ||
          fold(pickLabel(language, spec.label)).includes(needle) ||
          fold(pickLabel(language, spec.description)).includes(needle) ||
          spec.key.includes(needle)),
    );
  }, [nodeTypes, query, language]);

  const flow = useReactFlow();
  const close = () => store.getState().openQuickAdd(null);
  const choose = (spec: NodeTypeSpec | undefined) => {
    if (!spec || !request.source || !request.port) return close();
    const id = store.getState().addConnected(request.source, request.port, spec.key, request.at);
    // Bring the new block into view when it landed outside it (keeping the zoom).
    const node = store.getState().nodes.find((candidate) => candidate.id === id);
    const bounds = document.querySelector(".canvas")?.getBoundingClientRect();
    if (!node || !bounds) return;
    const topLeft = flow.flowToScreenPosition(node.position);
    const bottomRight = flow.flowToScreenPosition({ x: node.position.x + 240, y: node.position.y + 140 });
    const visible = topLeft.x >= bounds.left && topLeft.y >= bounds.top && bottomRight.x <= bounds.right && bottomRight.y <= bounds.bottom;
    if (!visible) void flow.setCenter(node.position.x + 120, node.position.y + 60, { zoom: flow.getZoom(), duration: 250 });
  };

  useEffect(() => {
    const outside = (event: MouseEvent) => {
      if (box.current && !box.current.contains(event.target as Node)) close();
    };
    window.addEventListener("mousedown", outside);
    return () => window.removeEventListener("mousedown", outside);
  });

  // Keep the popover on screen.
  const left = Math.min(request.screen.x + 8, window.innerWidth - 300);
  const top = Math.min(request.screen.y - 20, window.innerHeight - 380);
  let lastCategory = "";
  return (
    <div className="quick-add" ref={box} role="dialog" aria-label={t("quick.title")} data-testid="quick-add" style={{ left, top }}>
      <input
        autoFocus
        data-testid="quick-add-search"
        placeholder={t("quick.search")}
        aria-label={t("quick.search")}
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setHighlight(0);
        }}
        onKeyDown={(event) => {
          if (event.key === "Escape") close();
          else if (event.key === "ArrowDown") {
            event.preventDefault();
            setHighlight((index) => Math.min(index + 1, choices.length - 1));
          } else if (event.key === "ArrowUp") {
            event.preventDefault();
            setHighlight((index) => Math.max(index - 1, 0));
          } else if (event.key === "Enter") {
            event.preventDefault();
            choose(choices[highlight]);
          }
        }}
      />
      <ul role="listbox">
        {choices.length === 0 && <li className="muted small">{t("quick.none")}</li>}
        {choices.map((spec, index) => {
          const heading = spec.category !== lastCategory ? label(spec.category_info?.label, spec.category) : null;
          lastCategory = spec.category;
          return (
            <li key={spec.key} role="presentation">
              {heading && <span className="quick-add-category">{heading}</span>}
              <button
                type="button"
                role="option"
                aria-selected={index === highlight}
                className={index === highlight ? "active" : undefined}
                data-testid={`quick-add-${spec.key}`}
                title={label(spec.description)}
                onMouseEnter={() => setHighlight(index)}
                onClick={() => choose(spec)}
              >
                <span aria-hidden className="step-icon">{spec.glyph}</span> {label(spec.label, spec.key)}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
