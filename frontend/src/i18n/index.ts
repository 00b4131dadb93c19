// A small dictionary-based i18n: pt-BR is the default, English the alternative. The chosen
// language lives in a zustand store so every component re-renders when it changes.
import { create } from "zustand";
import { setApiLanguage } from "../api/client";
import type { Labels, Language } from "../api/types";
import { en, ptBR, type MessageKey } from "./messages";

export type { MessageKey };

const dictionaries: Record<Language, Record<MessageKey, string>> = { "pt-BR": ptBR, en };

interface LanguageState {
  language: Language;
  setLanguage: (language: Language) => void;
}

export const useLanguage = create<LanguageState>((set) => ({
  language: "pt-BR",
  setLanguage: (language) => {
    document.documentElement.lang = language;
    setApiLanguage(language);
    set({ language });
  },
}));

export function translate(language: Language, key: MessageKey, params?: Record<string, string | number>): string {
  const template = dictionaries[language][key] ?? dictionaries["pt-BR"][key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Picks the current language out of a {"pt-BR", "en"} label object from the API. */
export function pickLabel(language: Language, labels: Partial<Labels> | undefined | null, fallback = ""): string {
  if (!labels) return fallback;
  return labels[language] || labels["pt-BR"] || labels.en || fallback;
}

export function useT() {
  const language = useLanguage((state) => state.language);
  const t = (key: MessageKey, params?: Record<string, string | number>) => translate(language, key, params);
  // For keys built at run time (field names, enum values) that may have no translation.
  const tOptional = (key: string): string | undefined => {
    const found = (dictionaries[language] as Record<string, string>)[key];
    return found ?? (dictionaries["pt-BR"] as Record<string, string>)[key];
  };
  const label = (labels: Partial<Labels> | undefined | null, fallback = "") => pickLabel(language, labels, fallback);
  return { t, tOptional, label, language };
}

export function formatDateTime(language: Language, iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(language === "en" ? "en-US" : "pt-BR", { dateStyle: "short", timeStyle: "short" });
}
