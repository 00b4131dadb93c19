import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { User } from "../../api/types";
import { App } from "../../App";
import { useLanguage } from "../../i18n";
import { matchPattern, navigate, safeNext } from "../../router";
import { activeNavId, matchRoute, navFor, ROUTES } from "../../routes";
import { mockFetch } from "../../test/fixtures";

const user = (roles: User["roles"], extra: Partial<User> = {}): User => ({ id: 1, username: "ana", first_name: "Ana", language: "pt-BR", roles, ...extra });

beforeEach(() => {
  useLanguage.getState().setLanguage("pt-BR");
  localStorage.clear();
});

describe("router", () => {
  it("matches named and numeric segments", () => {
    expect(matchPattern("/contacts/#id", "/contacts/12")).toEqual({ id: "12" });
    expect(matchPattern("/contacts/#id", "/contacts/import")).toBeNull();
    expect(matchPattern("/a/:slug", "/a/x%20y/")).toEqual({ slug: "x y" });
    expect(matchRoute("/contacts/import")?.route.id).toBe("contactsImport");
    expect(matchRoute("/flows/6")?.params).toEqual({ flowId: "6" });
    expect(matchRoute("/")?.route.id).toBe("flows");
    expect(matchRoute("/nope")).toBeNull();
  });

  it("only follows `next` to paths of this site", () => {
    expect(safeNext("?next=/flows/6")).toBe("/flows/6");
    expect(safeNext("?next=/sandbox/")).toBe("/sandbox/");
    expect(safeNext("?next=//evil.example/x")).toBe("/flows");
    expect(safeNext("?next=https://evil.example")).toBe("/flows");
    expect(safeNext("")).toBe("/flows");
  });

  it("has one unique id per route and nav entries only on routes", () => {
    const ids = ROUTES.map((route) => route.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(activeNavId("/contacts/12")).toBe("contacts");
    expect(activeNavId("/flows/3")).toBe("flows");
  });
});

describe("navigation", () => {
  it("shows viewers what they may open, admins everything", () => {
    const labels = (roles: User["roles"]) => navFor(user(roles)).flatMap((section) => section.entries.map((entry) => entry.id));
    const viewer = labels(["viewer"]);
    expect(viewer).toEqual(["flows", "runs", "dashboard", "contacts", "templates", "media", "segments", "campaigns", "teams", "assistants", "settings"]);
    expect(labels(["viewer", "editor", "admin"])).toEqual([
      "flows", "runs", "dashboard", "contacts", "templates", "media", "segments", "campaigns", "channels", "integrations", "teams", "assistants", "settings",
    ]);
  });
});

describe("app shell", () => {
  it("sends a deep link through the login and back", async () => {
    let signedIn = false;
    mockFetch((method, url) => {
      if (url === "/api/auth/session/") return { status: 200, body: signedIn ? { authenticated: true, user: user(["viewer"]) } : { authenticated: false, user: null } };
      if (method === "POST" && url === "/api/auth/login/") {
        signedIn = true;
        return { status: 200, body: { authenticated: true, user: user(["viewer"]) } };
      }
      if (url.startsWith("/api/contacts")) return { status: 200, body: { results: [], count: 0 } };
      return { status: 200, body: [] };
    });
    navigate("/contacts?q=ana", true);
    render(<App />);
    await screen.findByTestId("login-form");
    // The address is replaced by an effect after the form's first render: wait for it (it raced on a slow machine).
    await waitFor(() => expect(window.location.pathname).toBe("/login"));
    expect(new URLSearchParams(window.location.search).get("next")).toBe("/contacts?q=ana");
    fireEvent.change(screen.getByLabelText("Usuário"), { target: { value: "ana" } });
    fireEvent.change(screen.getByLabelText("Senha"), { target: { value: "x" } });
    fireEvent.submit(screen.getByTestId("login-form"));
    await screen.findByTestId("sidenav");
    expect(window.location.pathname + window.location.search).toBe("/contacts?q=ana");
    expect(screen.getByTestId("nav-contacts").getAttribute("aria-current")).toBe("page");
    expect(screen.queryByTestId("nav-channels")).toBeNull();
    expect(screen.getByTestId("nav-sandbox").getAttribute("href")).toBe("/sandbox/");
    expect(screen.getByTestId("nav-api-docs").getAttribute("href")).toBe("/api/docs/");
  });

  it("refuses a page above the user's role, in the user's language", async () => {
    mockFetch((_method, url) => (url === "/api/auth/session/" ? { status: 200, body: { authenticated: true, user: user(["viewer"], { language: "en" }) } } : { status: 200, body: [] }));
    navigate("/channels", true);
    render(<App />);
    await screen.findByTestId("forbidden");
    expect(screen.getByTestId("forbidden").textContent).toContain("Your role does not give access");
    await waitFor(() => expect(screen.getByTestId("nav-flows").textContent).toContain("Flows"));
  });
});
