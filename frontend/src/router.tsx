// A tiny history-API router: paths with ":param" segments, matched against the route table in
// routes.tsx. Small enough that a routing library would be more code to learn than to read.
import { create } from "zustand";
import type { AnchorHTMLAttributes, MouseEvent } from "react";

export const useLocation = create<{ path: string; search: string }>(() => ({
  path: window.location.pathname,
  search: window.location.search,
}));

const sync = () => useLocation.setState({ path: window.location.pathname, search: window.location.search });
window.addEventListener("popstate", sync);

/** Goes to `path` (which may carry a query string; routes match on the path part only). */
export function navigate(path: string, replace = false) {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  sync();
}

/** Replaces the query string of the current page (filters), keeping the path. */
export function setQuery(params: Record<string, string>) {
  const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value !== "")).toString();
  navigate(window.location.pathname + (query ? `?${query}` : ""), true);
}

export type Params = Record<string, string>;

/**
 * Matches a pattern against a path: ":name" takes any segment, "#name" only digits.
 * matchPattern("/contacts/#id", "/contacts/12") → {id: "12"}; null when it does not match.
 */
export function matchPattern(pattern: string, path: string): Params | null {
  const clean = (value: string) => value.replace(/\/+$/, "") || "/";
  const want = clean(pattern).split("/");
  const have = clean(path).split("/");
  if (want.length !== have.length) return null;
  const params: Params = {};
  for (let index = 0; index < want.length; index += 1) {
    const segment = want[index];
    if (segment.startsWith(":") || segment.startsWith("#")) {
      const value = decodeURIComponent(have[index]);
      if (!value || (segment.startsWith("#") && !/^\d+$/.test(value))) return null;
      params[segment.slice(1)] = value;
    } else if (segment !== have[index]) {
      return null;
    }
  }
  return params;
}

/**
 * Where to go after signing in: the `next` query parameter when it is a path on this site
 * ("/flows/6", "/sandbox/"), never another origin ("//evil.example", "https://…").
 */
export function safeNext(search: string, fallback = "/flows"): string {
  const next = new URLSearchParams(search).get("next") ?? "";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : fallback;
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  return (
    <a
      href={to}
      {...rest}
      onClick={(event: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(event);
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(to);
      }}
    />
  );
}
