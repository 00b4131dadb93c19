import { Suspense, useEffect, useState } from "react";
import { onSessionLost } from "./api/client";
import { endpoints } from "./api/endpoints";
import type { Language, Session } from "./api/types";
import { ErrorBoundary } from "./ErrorBoundary";
import { useLanguage, useT } from "./i18n";
import { LoginPage } from "./pages/LoginPage";
import { AppShell } from "./pages/shell/AppShell";
import { navigate, safeNext, useLocation } from "./router";
import { hasRole, matchRoute } from "./routes";

// Opening a URL directly (an editor link): fetch that page's code alongside the session check.
void matchRoute(window.location.pathname)?.route.preload?.();

function applyUserLanguage(session: Session) {
  const stored = localStorage.getItem("fluxo.language") as Language | null;
  const language = session.user?.language ?? stored ?? "pt-BR";
  useLanguage.getState().setLanguage(language === "en" ? "en" : "pt-BR");
}

const isLogin = (path: string) => (path.replace(/\/+$/, "") || "/") === "/login";

/** After signing in: back to the page asked for; pages outside the app (/sandbox/) load in full. */
function goAfterLogin(search: string) {
  const next = safeNext(search);
  if (isLogin(next.split("?")[0])) return navigate("/flows", true);
  if (matchRoute(next.split("?")[0])) navigate(next, true);
  else window.location.assign(next);
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

  const login = isLogin(path);
  useEffect(() => {
    if (!session) return;
    // Deep links survive the login: /flows/6 → /login?next=/flows/6 → /flows/6.
    if (!session.authenticated && !login) {
      const here = window.location.pathname + window.location.search;
      navigate(here === "/" ? "/login" : `/login?${new URLSearchParams({ next: here }).toString()}`, true);
    }
    if (session.authenticated && login) goAfterLogin(window.location.search);
  }, [session, login]);

  if (error) return <p className="page-error">{error}</p>;
  if (!session) return <p className="muted page-loading">{t("common.loading")}</p>;
  if (!session.authenticated || !session.user) {
    return (
      <LoginPage
        onLoggedIn={(next) => {
          applyUserLanguage(next);
          setSession(next);
          goAfterLogin(window.location.search);
        }}
      />
    );
  }
  const user = session.user;
  const matched = matchRoute(path);
  const logout = async () => {
    await endpoints.logout().catch(() => undefined);
    setSession({ authenticated: false, user: null });
    navigate("/login", true);
  };
  let content;
  if (!matched) {
    content = <p className="page-error">{t("nav.notFound")}</p>;
  } else if (!hasRole(user, matched.route.role)) {
    content = (
      <div className="page" data-testid="forbidden">
        <p className="page-error">{t("shell.forbidden")}</p>
      </div>
    );
  } else {
    const Page = matched.route.page;
    content = (
      <ErrorBoundary key={matched.route.id}>
        <Suspense fallback={<p className="muted page-loading">{t("common.loading")}</p>}>
          <Page user={user} params={matched.params} />
        </Suspense>
      </ErrorBoundary>
    );
  }
  return (
    <AppShell user={user} path={path} onLogout={logout} fullBleed={Boolean(matched?.route.fullBleed)}>
      {content}
    </AppShell>
  );
}
