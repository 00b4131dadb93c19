// Settings: your language, and (admins) the people who use Fluxo with their roles, created with a
// password or invited by e-mail.
import { useState } from "react";
import { ws, type Person } from "../../api/workspace";
import type { Role } from "../../api/types";
import { formatDateTime, useT, type MessageKey } from "../../i18n";
import type { PageProps } from "../../routes";
import { LanguageSwitch } from "../LanguageSwitch";
import { CopyField, ErrorNote, PageHeader, Pill, can, errorText, useLoad } from "../ui";

const ROLES: Role[] = ["viewer", "editor", "admin"];

function People({ me }: { me: number }) {
  const { t, language } = useT();
  const { data: people, error, reload } = useLoad(() => ws.users());
  const [form, setForm] = useState({ username: "", first_name: "", email: "", role: "editor" as Role, password: "", invite: false });
  const [created, setCreated] = useState<Person | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const act = async (action: () => Promise<void>) => {
    setActionError(null);
    try {
      await action();
      await reload();
    } catch (failure) {
      setActionError(errorText(failure));
    }
  };
  return (
    <section className="card wide" data-testid="people">
      <h2>{t("ws.people.title")}</h2>
      <p className="muted small">{t("ws.people.roles")}</p>
      <form
        className="people-form"
        onSubmit={(event) => {
          event.preventDefault();
          void act(async () => {
            setCreated(await ws.createUser(form.invite ? { ...form, password: "" } : form));
            setForm({ username: "", first_name: "", email: "", role: "editor", password: "", invite: false });
          });
        }}
      >
        <input required placeholder={t("login.username")} value={form.username} onChange={(event) => setForm({ ...form, username: event.target.value })} data-testid="person-username" />
        <input placeholder={t("ws.name")} value={form.first_name} onChange={(event) => setForm({ ...form, first_name: event.target.value })} />
        <input type="email" placeholder="e-mail" required={form.invite} value={form.email} onChange={(event) => setForm({ ...form, email: event.target.value })} data-testid="person-email" />
        <select value={form.role} onChange={(event) => setForm({ ...form, role: event.target.value as Role })} aria-label={t("ws.people.role")} data-testid="person-role">
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {t(`role.${role}` as MessageKey)}
            </option>
          ))}
        </select>
        <label className="choice">
          <input type="checkbox" checked={form.invite} onChange={(event) => setForm({ ...form, invite: event.target.checked })} data-testid="person-invite" /> {t("ws.people.invite")}
        </label>
        {!form.invite && (
          <input type="password" autoComplete="new-password" required placeholder={t("login.password")} value={form.password} onChange={(event) => setForm({ ...form, password: event.target.value })} data-testid="person-password" />
        )}
        <button type="submit" className="primary" data-testid="person-create">
          {t(form.invite ? "ws.people.sendInvite" : "ws.people.create")}
        </button>
      </form>
      {created?.invite_link && <CopyField label={t("ws.people.inviteLink", { name: created.username })} value={created.invite_link} testId="invite-link" />}
      {created && !created.invite_link && <p className="notice">✓ {t("ws.people.created", { name: created.username })}</p>}
      <ErrorNote error={actionError ?? error} />
      <table className="data-table" data-testid="people-table">
        <thead>
          <tr>
            <th>{t("login.username")}</th>
            <th>{t("ws.name")}</th>
            <th>{t("ws.people.role")}</th>
            <th>{t("ws.people.lastLogin")}</th>
            <th>{t("ws.state")}</th>
          </tr>
        </thead>
        <tbody>
          {(people ?? []).map((person) => (
            <tr key={person.id} data-testid="person-row">
              <td>{person.username}</td>
              <td>
                {person.first_name || "—"}
                {person.email && <div className="muted small">{person.email}</div>}
              </td>
              <td>
                <select value={person.role} disabled={person.id === me} onChange={(event) => void act(async () => void (await ws.updateUser(person.id, { role: event.target.value })))} aria-label={t("ws.people.role")}>
                  {ROLES.map((role) => (
                    <option key={role} value={role}>
                      {t(`role.${role}` as MessageKey)}
                    </option>
                  ))}
                </select>
              </td>
              <td className="small">{person.last_login ? formatDateTime(language, person.last_login) : person.has_password ? t("ws.never") : t("ws.people.invited")}</td>
              <td>
                <Pill tone={person.is_active ? "ok" : "neutral"}>{t(person.is_active ? "ws.people.active" : "ws.people.inactive")}</Pill>{" "}
                {person.id !== me && (
                  <button type="button" className="link" onClick={() => void act(async () => void (await ws.updateUser(person.id, { is_active: !person.is_active })))}>
                    {t(person.is_active ? "ws.people.deactivate" : "ws.people.reactivate")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function SettingsPage({ user }: PageProps) {
  const { t } = useT();
  return (
    <div className="page" data-testid="settings-page">
      <PageHeader title={t("nav.settings")} />
      <div className="card-grid">
        <section className="card">
          <h2>{t("ws.settings.profile")}</h2>
          <dl className="facts">
            <dt>{t("login.username")}</dt>
            <dd>{user.username}</dd>
            <dt>{t("ws.people.role")}</dt>
            <dd>{t(`role.${ROLES.filter((role) => user.roles.includes(role)).pop() ?? "viewer"}` as MessageKey)}</dd>
            <dt>{t("nav.language")}</dt>
            <dd>
              <LanguageSwitch persist />
            </dd>
          </dl>
        </section>
        {can(user.roles, "admin") && <People me={user.id} />}
      </div>
    </div>
  );
}
