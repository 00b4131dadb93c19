// The frame around every signed-in page: the navigation (from the route table), links to the
// sandbox phone, the API docs and the admin, and the signed-in user with language and logout.
import { useState, type ReactNode } from "react";
import type { User } from "../../api/types";
import { useT, type MessageKey } from "../../i18n";
import { Link } from "../../router";
import { activeNavId, navFor } from "../../routes";
import { LanguageSwitch } from "../LanguageSwitch";
import { AlertsBell } from "../runs/AlertsBell";
import "./shell.css";

// The editor needs the width for its canvas: there the menu starts collapsed, with its own memory.
const collapsedKey = (fullBleed: boolean) => (fullBleed ? "fluxo.nav.collapsed.full" : "fluxo.nav.collapsed");
const startsCollapsed = (fullBleed: boolean) => {
  const stored = localStorage.getItem(collapsedKey(fullBleed));
  return stored === null ? fullBleed : stored === "1";
};

export function AppShell({
  user,
  path,
  onLogout,
  fullBleed = false,
  children,
}: {
  user: User;
  path: string;
  onLogout: () => void;
  fullBleed?: boolean;
  children: ReactNode;
}) {
  const { t } = useT();
  const [state, setState] = useState(() => ({ fullBleed, collapsed: startsCollapsed(fullBleed) }));
  // Moving between the editor and the other pages picks that kind of page's own setting.
  const collapsed = state.fullBleed === fullBleed ? state.collapsed : startsCollapsed(fullBleed);
  if (state.fullBleed !== fullBleed) setState({ fullBleed, collapsed });
  const active = activeNavId(path);
  const toggle = () => {
    localStorage.setItem(collapsedKey(fullBleed), collapsed ? "0" : "1");
    setState({ fullBleed, collapsed: !collapsed });
  };
  const topRole = user.roles.includes("admin") ? "admin" : user.roles.includes("editor") ? "editor" : "viewer";
  return (
    <div className={`shell${collapsed ? " collapsed" : ""}`}>
      <nav className="sidenav" aria-label={t("shell.navigation")} data-testid="sidenav">
        <div className="sidenav-head">
          <Link to="/flows" className="brand" title="Fluxo">
            {collapsed ? "F" : "Fluxo"}
          </Link>
          <button
            type="button"
            className="icon-button collapse"
            onClick={toggle}
            aria-label={t(collapsed ? "shell.expand" : "shell.collapse")}
            title={t(collapsed ? "shell.expand" : "shell.collapse")}
            data-testid="nav-collapse"
          >
            {collapsed ? "»" : "«"}
          </button>
        </div>
        {navFor(user).map((section) => (
          <div className="nav-group" key={section.group}>
            {!collapsed && <h3>{t(`shell.group.${section.group}` as MessageKey)}</h3>}
            <ul>
              {section.entries.map((entry) => (
                <li key={entry.id}>
                  <Link
                    to={entry.path}
                    className={`nav-link${active === entry.id ? " active" : ""}`}
                    aria-current={active === entry.id ? "page" : undefined}
                    data-testid={`nav-${entry.id}`}
                    title={t(entry.label)}
                  >
                    <span className="nav-icon" aria-hidden>
                      {entry.icon}
                    </span>
                    {!collapsed && <span>{t(entry.label)}</span>}
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        ))}
        <span className="spacer" />
        <ul className="nav-external">
          <li>
            <a href="/sandbox/" className="nav-link" data-testid="nav-sandbox" title={t("shell.sandbox")}>
              <span className="nav-icon" aria-hidden>
                ☏
              </span>
              {!collapsed && <span>{t("shell.sandbox")}</span>}
            </a>
          </li>
          <li>
            <a href="/api/docs/" className="nav-link" data-testid="nav-api-docs" title={t("shell.apiDocs")}>
              <span className="nav-icon" aria-hidden>
                {"{}"}
              </span>
              {!collapsed && <span>{t("shell.apiDocs")}</span>}
            </a>
          </li>
          {user.is_staff && (
            <li>
              <a href="/admin/" className="nav-link" data-testid="nav-admin" title={t("shell.admin")}>
                <span className="nav-icon" aria-hidden>
                  ⚒
                </span>
                {!collapsed && <span>{t("shell.admin")}</span>}
              </a>
            </li>
          )}
        </ul>
        <AlertsBell />
        <div className="nav-user">
          {!collapsed && (
            <div className="nav-user-name">
              <strong data-testid="current-user">{user.first_name || user.username}</strong>
              <span className="pill" data-testid="current-role">
                {t(`role.${topRole}` as MessageKey)}
              </span>
            </div>
          )}
          {collapsed && (
            <span className="avatar" title={user.first_name || user.username}>
              {(user.first_name || user.username).slice(0, 1).toUpperCase()}
              <span className="sr-only" data-testid="current-user">
                {user.first_name || user.username}
              </span>
            </span>
          )}
          {!collapsed && <LanguageSwitch persist />}
          <button type="button" className="link" onClick={onLogout} data-testid="logout" title={t("nav.logout")}>
            {collapsed ? "⇥" : t("nav.logout")}
          </button>
        </div>
      </nav>
      <main className={`shell-main${fullBleed ? " full-bleed" : ""}`}>{children}</main>
    </div>
  );
}
