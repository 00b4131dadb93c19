// Ctrl+K: find a block by its name, type or content and jump to it.
import { useMemo, useState } from "react";
import { pickLabel, useT } from "../i18n";
import { isStepNode } from "./graph";
import { blockName } from "./names";
import { useFocusNode } from "./ProblemsPanel";
import { useEditor } from "./store";

function fold(text: string): string {
  return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

export function SearchDialog({ onClose }: { onClose: () => void }) {
  const { t, language } = useT();
  const nodes = useEditor((state) => state.nodes);
  const nodeTypes = useEditor((state) => state.nodeTypes);
  const focus = useFocusNode();
  const [query, setQuery] = useState("");
  const [highlight, setHighlight] = useState(0);
  // The searchable text of each block, built once per open (not per keystroke).
  const index = useMemo(
    () =>
      nodes.filter(isStepNode).map((node) => {
        const name = blockName(node, nodeTypes, language);
        const type = pickLabel(language, nodeTypes[node.data.nodeType]?.label, node.data.nodeType);
        return { node, name, type, text: fold(`${name} ${type} ${node.id} ${JSON.stringify(node.data.config)}`) };
      }),
    [nodes, nodeTypes, language],
  );
  const needle = fold(query.trim());
  const found = (needle ? index.filter((entry) => entry.text.includes(needle)) : index).slice(0, 50);
  const go = (nodeId: string | undefined) => {
    if (!nodeId) return;
    focus(nodeId);
    onClose();
  };
  const snippet = (config: Record<string, unknown>) => {
    if (!needle) return "";
    const text = JSON.stringify(config);
    const at = fold(text).indexOf(needle);
    return at < 0 ? "" : `…${text.slice(Math.max(0, at - 20), at + needle.length + 30)}…`;
  };
  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <div className="modal search-dialog" role="dialog" aria-label={t("search.title")} data-testid="search-dialog" onMouseDown={(event) => event.stopPropagation()}>
        <input
          autoFocus
          data-testid="search-input"
          placeholder={t("search.placeholder")}
          aria-label={t("search.title")}
          value={query}
          onChange={(event) => {
            setQuery(event.target.value);
            setHighlight(0);
          }}
          onKeyDown={(event) => {
            if (event.key === "Escape") onClose();
            else if (event.key === "ArrowDown") {
              event.preventDefault();
              setHighlight((i) => Math.min(i + 1, found.length - 1));
            } else if (event.key === "ArrowUp") {
              event.preventDefault();
              setHighlight((i) => Math.max(i - 1, 0));
            } else if (event.key === "Enter") go(found[highlight]?.node.id);
          }}
        />
        <ul role="listbox" className="search-results">
          {found.length === 0 && <li className="muted small">{t("search.none")}</li>}
          {found.map((entry, i) => (
            <li key={entry.node.id} role="option" aria-selected={i === highlight}>
              <button type="button" className={i === highlight ? "active" : undefined} data-testid="search-result" onClick={() => go(entry.node.id)} onMouseEnter={() => setHighlight(i)}>
                <span className="step-icon" aria-hidden>{nodeTypes[entry.node.data.nodeType]?.glyph ?? "●"}</span>
                <strong>{entry.name}</strong> <span className="muted small">{entry.type}</span>
                {needle && <small className="muted search-snippet">{snippet(entry.node.data.config)}</small>}
              </button>
            </li>
          ))}
        </ul>
        <p className="muted small">{t("search.hint")}</p>
      </div>
    </div>
  );
}
