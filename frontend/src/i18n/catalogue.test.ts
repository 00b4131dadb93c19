// The React app's half of "no English on a pt-BR page": every key has both languages, nothing is
// left empty, placeholders match, and a text may be the same in both only when it really is
// (product names, words Portuguese borrowed) — listed here on purpose.
import { describe, expect, it } from "vitest";
import { en, ptBR } from "./messages";
import { workspaceEn, workspacePtBR } from "./workspace";

const SAME_IN_BOTH = new Set([
  "nav.templates", "ws.channels.cloud", "ws.category.MARKETING", "ws.consentCategory.marketing", "ws.country.PT",
  "ws.country.AR", "field.id", "field.link", "field.template", "field.url", "enum.event.opt_in", "enum.event.opt_out",
  "dash.template", "dash.none", "alerts.notify.email",
]);

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe("the UI catalogue", () => {
  const pt = ptBR as Record<string, string>;
  const english = en as Record<string, string>;

  it("has every key in both languages, none empty", () => {
    expect(Object.keys(english).sort()).toEqual(Object.keys(pt).sort());
    expect(Object.keys(workspaceEn).sort()).toEqual(Object.keys(workspacePtBR).sort());
    for (const [key, value] of Object.entries(pt)) {
      expect(value.trim(), `pt-BR ${key}`).not.toBe("");
      expect(english[key].trim(), `en ${key}`).not.toBe("");
    }
  });

  it("translates every text (a copied English string shows up here)", () => {
    const same = Object.keys(pt).filter((key) => pt[key] === english[key] && !SAME_IN_BOTH.has(key));
    expect(same).toEqual([]);
  });

  it("keeps the {placeholders} of each text", () => {
    for (const key of Object.keys(pt)) expect(placeholders(english[key]), key).toEqual(placeholders(pt[key]));
  });

  it("does not let the workspace catalogue shadow an existing key", () => {
    // messages.ts spreads the workspace first: a clash would silently replace one of them.
    const own = Object.keys(workspacePtBR).filter((key) => pt[key] !== (workspacePtBR as Record<string, string>)[key]);
    expect(own).toEqual([]);
  });
});
