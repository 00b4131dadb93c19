// A text field that understands {{ }} expressions: typing "{{" (or Ctrl+Space) opens a list of
// the variables available at this point of the graph; picking one inserts it and closes "}}".
import { useId, useRef, useState, type KeyboardEvent } from "react";
import { useEditorState } from "../editor/context";
import { useT } from "../i18n";

export interface ExpressionInputProps {
  value: string;
  onChange: (value: string) => void;
  scope: string[];
  multiline?: boolean;
  placeholder?: string;
  ariaLabel?: string;
  testId?: string;
}

/** The partial variable name being typed right after an unclosed "{{", or null. */
export function openExpressionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{{");
  if (open < 0 || before.indexOf("}}", open) >= 0) return null;
  const typed = before.slice(open + 2);
  if (!/^\s*[\w.]*$/.test(typed)) return null;
  return { start: open + 2, query: typed.trim() };
}

export function suggestionsFor(scope: string[], query: string): string[] {
  const needle = query.toLowerCase();
  return scope.filter((name) => name.toLowerCase().includes(needle)).slice(0, 12);
}

export function ExpressionInput({ value, onChange, scope, multiline, placeholder, ariaLabel, testId }: ExpressionInputProps) {
  const { t, label } = useT();
  const variables = useEditorState((state) => state.variables);
  const listId = useId();
  const fieldRef = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [open, setOpen] = useState<{ start: number; query: string } | null>(null);
  const [highlight, setHighlight] = useState(0);
  const suggestions = open ? suggestionsFor(scope, open.query) : [];

  const refresh = (text: string, caret: number) => {
    setOpen(openExpressionAt(text, caret));
    setHighlight(0);
  };

  const insert = (name: string) => {
    const field = fieldRef.current;
    if (!open || !field) return;
    const caret = field.selectionStart ?? value.length;
    const rest = value.slice(caret);
    const closing = rest.trimStart().startsWith("}}") ? "" : "}}";
    const next = `${value.slice(0, open.start)}${name}${closing}${rest}`;
    onChange(next);
    setOpen(null);
    const position = open.start + name.length + closing.length;
    // Picking keeps the focus in the field (the option's mousedown is prevented); place the caret
    // after React renders the new value — unless the person has moved on to another field.
    requestAnimationFrame(() => {
      if (document.activeElement === field) field.setSelectionRange(position, position);
    });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === " " && event.ctrlKey) {
      event.preventDefault();
      const caret = fieldRef.current?.selectionStart ?? value.length;
      setOpen(openExpressionAt(value, caret) ?? { start: caret, query: "" });
      return;
    }
    if (!open || suggestions.length === 0) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      setHighlight((index) => (index + 1) % suggestions.length);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      setHighlight((index) => (index - 1 + suggestions.length) % suggestions.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      insert(suggestions[highlight]);
    } else if (event.key === "Escape") {
      setOpen(null);
    }
  };

  const common = {
    ref: fieldRef,
    value,
    placeholder,
    "aria-label": ariaLabel,
    "aria-autocomplete": "list" as const,
    "aria-controls": open ? listId : undefined,
    "data-testid": testId,
    className: "expression-input",
    onChange: (event: { target: { value: string; selectionStart: number | null } }) => {
      onChange(event.target.value);
      refresh(event.target.value, event.target.selectionStart ?? event.target.value.length);
    },
    onKeyDown,
    onBlur: () => setTimeout(() => setOpen(null), 150),
  };

  return (
    <div className="expression-field">
      {multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
      {open && (
        <ul className="autocomplete" id={listId} role="listbox" data-testid="autocomplete">
          {suggestions.length === 0 && <li className="muted">{t("form.noVariables")}</li>}
          {suggestions.map((name, index) => (
            <li
              key={name}
              role="option"
              data-name={name}
              aria-selected={index === highlight}
              className={index === highlight ? "active" : undefined}
              onMouseDown={(event) => {
                event.preventDefault();
                insert(name);
              }}
            >
              <code>{name}</code>
              {variables[name]?.label && <span className="muted small"> {label(variables[name].label)}</span>}
              {variables[name]?.sample && <span className="muted small"> · {variables[name].sample}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
