// Approved WhatsApp templates, fetched once per page load and shared by every template picker.
import { useEffect, useState } from "react";
import { endpoints } from "../api/endpoints";
import type { WhatsAppTemplate } from "../api/types";

let cache: Promise<WhatsAppTemplate[]> | null = null;

export function resetTemplateCache() {
  cache = null;
}

export function useTemplates(): { templates: WhatsAppTemplate[]; loading: boolean; failed: boolean } {
  const [state, setState] = useState({ templates: [] as WhatsAppTemplate[], loading: true, failed: false });
  useEffect(() => {
    let alive = true;
    cache ??= endpoints.templates().catch((error) => {
      cache = null;
      throw error;
    });
    cache.then(
      (templates) => alive && setState({ templates, loading: false, failed: false }),
      () => alive && setState({ templates: [], loading: false, failed: true }),
    );
    return () => {
      alive = false;
    };
  }, []);
  return state;
}

/** The distinct placeholders of a template body in order: "Olá {{1}}, pedido {{2}}" → ["1", "2"]. */
export function placeholders(bodyText: string): string[] {
  const found: string[] = [];
  for (const match of bodyText.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    if (!found.includes(match[1])) found.push(match[1]);
  }
  return found;
}
