import { lazy, Suspense, useEffect, useState } from "react";
import { onSessionLost } from "./api/client";
import { endpoints } from "./api/endpoints";
import type { Language, Session } from "./api/types";
import { useLanguage, useT } from "./i18n";
import { FlowListPage } from "./pages/FlowListPage";
import { LanguageSwitch } from "./pages/LanguageSwitch";
import { LoginPage } from "./pages/LoginPage";
import { Link, matchRoute, navigate, useLocation } from "./router";

// The editor (React Flow, dagre, forms) is most of the bundle: the login and list pages load without it.
const loadEditor = () => import("./editor/EditorPage");
// Opening an editor URL directly: fetch the editor chunk alongside the session check, not after it.
if (matchRoute(window.location.pathname).name === "editor") void loadEditor();
const EditorPage = lazy(() => loadEditor().then((module) => ({ default: module.EditorPage })));

function applyUserLanguage(session: Session) {
  const stored = localStorage.getItem("fluxo.language") as Language | null;
  const language = session.user?.language ?? stored ?? "pt-BR";
  useLanguage.getState().setLanguage(language === "en" ? "en" : "pt-BR");
}

export function App() {
  const { t } = useT();
  const path = useLocation((state) => state.path);
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);

  // A request refused for lack of a session sends the person back to the login page.
  useEffect(() => onSessionLost(() => setSession({ authenticated: false, user: null })), []);

  useEffect(() => {
    endpoints.session().then(
      (current) => {
        applyUserLanguage(current);
        setSession(current);
      },
      (failure: Error) => setError(failure.message),
    );
  }, []);

  const route = matchRoute(path);
  useEffect(() => {
    if (!session) return;
    if (!session.authenticated && route.name !== "login") navigate("/login", true);
    if (session.authenticated && route.name === "login") navigate("/flows", true);
  }, [session, route.name]);

  if (error) return <p className="page-error">{error}</p>;
  if (!session) return <p className="muted page-loading">{t("common.loading")}</p>;
  if (!session.authenticated || !session.user) {
    return (
      <LoginPage
        onLoggedIn={(next) => {
          applyUserLanguage(next);
          setSession(next);
          navigate("/flows", true);
        }}
      />
    );
  }
  const user = session.user;
  return (
    <div className="app">
      {route.name !== "editor" && (
        <nav className="topbar">
          <Link to="/flows" className="brand">
            Fluxo
          </Link>
          <span className="spacer" />
          <span className="muted small" data-testid="current-user">
            {user.first_name || user.username}
          </span>
          <LanguageSwitch persist />
          <button
            type="button"
            className="link"
            onClick={async () => {
              await endpoints.logout().catch(() => undefined);
              setSession({ authenticated: false, user: null });
              navigate("/login", true);
            }}
          >
            {t("nav.logout")}
          </button>
        </nav>
      )}
      {route.name === "flows" && <FlowListPage user={user} />}
      {route.name === "editor" && (
        <Suspense fallback={<p className="muted page-loading">{t("common.loading")}</p>}>
          <EditorPage flowId={route.flowId} user={user} />
        </Suspense>
      )}
      {route.name === "notFound" && <p className="page-error">{t("nav.notFound")}</p>}
    </div>
  );
}
