// A tiny history-API router: the app has three screens, which does not warrant a routing library.
import { create } from "zustand";
import type { AnchorHTMLAttributes, MouseEvent } from "react";

export const useLocation = create<{ path: string }>(() => ({ path: window.location.pathname }));

window.addEventListener("popstate", () => useLocation.setState({ path: window.location.pathname }));

/** Goes to `path` (which may carry a query string; routes match on the path part only). */
export function navigate(path: string, replace = false) {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  useLocation.setState({ path: window.location.pathname });
}

export type Route = { name: "login" } | { name: "flows" } | { name: "editor"; flowId: number } | { name: "notFound" };

export function matchRoute(path: string): Route {
  const clean = path.replace(/\/+$/, "") || "/";
  if (clean === "/login") return { name: "login" };
  if (clean === "/" || clean === "/flows") return { name: "flows" };
  const editor = /^\/flows\/(\d+)$/.exec(clean);
  if (editor) return { name: "editor", flowId: Number(editor[1]) };
  return { name: "notFound" };
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
