// Small formatting helpers shared by the runs, run view and dashboard pages.
import type { Language } from "../../api/types";

export function formatDuration(seconds: number | null | undefined, language: Language): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1).replace(".", language === "en" ? "." : ",")} h`;
  return `${(seconds / 86400).toFixed(1).replace(".", language === "en" ? "." : ",")} ${language === "en" ? "days" : "dias"}`;
}

export function formatMicros(us: number | null | undefined, language: Language): string {
  return us === null || us === undefined ? "—" : formatDuration(us / 1_000_000, language);
}

export function secondsBetween(start: string, end: string | null): number | null {
  if (!end) return null;
  return (new Date(end).getTime() - new Date(start).getTime()) / 1000;
}

export function formatPercent(value: number | null | undefined, language: Language): string {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(language === "en" ? "en-US" : "pt-BR", { style: "percent", maximumFractionDigits: 1 }).format(value);
}

export function formatNumber(value: number | null | undefined, language: Language): string {
  return new Intl.NumberFormat(language === "en" ? "en-US" : "pt-BR").format(value ?? 0);
}

/** A value as short readable text for a table cell (objects as compact JSON). */
export function readable(value: unknown, max = 300): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
