// Small building blocks of the workspace pages: loading data, errors in the API's shape, copy
// buttons, status pills and a page header.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import { useT, type MessageKey } from "../i18n";

/** Loads data once (and again on `reload()`); `error` holds the message to show. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    try {
      setData(await run());
      setError(null);
    } catch (failure) {
      setError(errorText(failure));
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload, setData };
}

/** The message of an API error (with its field details), or of any other failure. */
export function errorText(failure: unknown): string {
  if (failure instanceof ApiError) {
    const details = Object.entries(failure.body.details ?? {})
      .map(([field, messages]) => `${field}: ${Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages)}`)
      .join(" · ");
    return details && failure.body.code === "validation_error" ? details : failure.body.message + (details ? ` (${details})` : "");
  }
  return failure instanceof Error ? failure.message : String(failure);
}

export function ErrorNote({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error-note" role="alert">
      {error}
    </p>
  );
}

export function PageHeader({ title, subtitle, children }: { title: string; subtitle?: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="subtitle">{subtitle}</p>}
      </div>
      <span className="spacer" />
      {children}
    </header>
  );
}

/** Copies `text`; says "copied" for a moment. The text is also selectable next to it. */
export function CopyButton({ text, testId, label }: { text: string; testId?: string; label?: MessageKey }) {
  const { t } = useT();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="copy-button"
      data-testid={testId}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // Clipboard refused (insecure origin): select the text so Ctrl+C works.
          const area = document.createElement("textarea");
          area.value = text;
          document.body.appendChild(area);
          area.select();
          document.execCommand?.("copy");
          area.remove();
        }
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }}
    >
      {copied ? `✓ ${t("ws.copied")}` : t(label ?? "ws.copy")}
    </button>
  );
}

/** A value to copy into another system: shown in full, selectable, with a copy button. */
export function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="copy-field">
      <span className="field-label">{label}</span>
      <div className="copy-row">
        <code data-testid={testId}>{value}</code>
        <CopyButton text={value} testId={`${testId}-copy`} />
      </div>
    </div>
  );
}

export function Pill({ tone = "neutral", children, testId }: { tone?: "ok" | "warn" | "bad" | "neutral" | "info"; children: ReactNode; testId?: string }) {
  return (
    <span className={`pill tone-${tone}`} data-testid={testId}>
      {children}
    </span>
  );
}

export function can(roles: string[], role: "editor" | "admin"): boolean {
  return roles.includes(role) || roles.includes("admin");
}

/** Reads a chosen file as text (UTF-8); FileReader where Blob.text is missing (older engines). */
export function readFile(file: File): Promise<string> {
  if (typeof file.text === "function") return file.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file, "utf-8");
  });
}
