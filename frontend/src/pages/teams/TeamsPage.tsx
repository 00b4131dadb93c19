// Teams: members, priority, business hours and holidays (public holidays of a country and state
// from the holidays library, plus the team's own dates). Admins change them; everyone reads.
import { useEffect, useState } from "react";
import { ws, type Team } from "../../api/workspace";
import { useT, type MessageKey } from "../../i18n";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, can, errorText, useLoad } from "../ui";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

function emptyTeam(): Partial<Team> {
  return {
    name: "",
    priority: 0,
    timezone: "America/Sao_Paulo",
    notify_email: "",
    members: [],
    business_hours: Object.fromEntries(DAYS.slice(0, 5).map((day) => [day, [["09:00", "18:00"]]])) as Team["business_hours"],
    holidays: [],
    holiday_country: "BR",
    holiday_subdivision: "",
  };
}

function HolidayPreview({ country, subdivision }: { country: string; subdivision: string }) {
  const { t, language } = useT();
  const year = new Date().getFullYear();
  const { data, error } = useLoad(() => (country ? ws.holidays(country, subdivision, year) : Promise.resolve(null)), [country, subdivision, language]);
  if (!country) return null;
  if (error) return <ErrorNote error={error} />;
  if (!data) return <p className="muted small">{t("common.loading")}</p>;
  return (
    <details className="holiday-preview" data-testid="holiday-preview">
      <summary>{t("ws.teams.holidayCount", { n: data.holidays.length, year })}</summary>
      <ul className="plain-list small">
        {data.holidays.map((day) => (
          <li key={day.date}>
            <code>{day.date}</code> {day.name}
          </li>
        ))}
      </ul>
    </details>
  );
}

function TeamForm({ team, onDone }: { team: Partial<Team>; onDone: () => void }) {
  const { t } = useT();
  const [form, setForm] = useState<Partial<Team>>(team);
  const [newDate, setNewDate] = useState("");
  const [error, setError] = useState<string | null>(null);
  const { data: people } = useLoad(() => ws.people());
  const [states, setStates] = useState<string[]>([]);
  useEffect(() => {
    if (!form.holiday_country) return setStates([]);
    ws.holidays(form.holiday_country, "", new Date().getFullYear()).then((data) => setStates(data.subdivisions), () => setStates([]));
  }, [form.holiday_country]);
  const hours = form.business_hours ?? {};
  const setDay = (day: string, span: [string, string] | null) => {
    const next = { ...hours };
    if (span) next[day] = [span];
    else delete next[day];
    setForm({ ...form, business_hours: next });
  };
  return (
    <form
      className="card"
      data-testid="team-form"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        try {
          await ws.saveTeam(form);
          onDone();
        } catch (failure) {
          setError(errorText(failure));
        }
      }}
    >
      <div className="field-grid">
        <label className="field">
          <span>{t("ws.name")}</span>
          <input required value={form.name ?? ""} onChange={(event) => setForm({ ...form, name: event.target.value })} data-testid="team-name" />
        </label>
        <label className="field">
          <span>{t("ws.teams.priority")}</span>
          <input type="number" value={form.priority ?? 0} onChange={(event) => setForm({ ...form, priority: Number(event.target.value) })} />
          <small className="hint">{t("ws.teams.priorityHelp")}</small>
        </label>
        <label className="field">
          <span>{t("ws.teams.timezone")}</span>
          <input value={form.timezone ?? ""} onChange={(event) => setForm({ ...form, timezone: event.target.value })} />
        </label>
        <label className="field">
          <span>{t("ws.teams.email")}</span>
          <input type="email" value={form.notify_email ?? ""} onChange={(event) => setForm({ ...form, notify_email: event.target.value })} />
        </label>
      </div>
      <fieldset>
        <legend>{t("ws.teams.members")}</legend>
        <div className="choices">
          {(people ?? []).map((person) => (
            <label key={person.id} className="choice">
              <input
                type="checkbox"
                checked={(form.members ?? []).includes(person.id)}
                onChange={() => {
                  const members = form.members ?? [];
                  setForm({ ...form, members: members.includes(person.id) ? members.filter((id) => id !== person.id) : [...members, person.id] });
                }}
              />{" "}
              {person.name}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>{t("ws.teams.hours")}</legend>
        <table className="hours">
          <tbody>
            {DAYS.map((day) => {
              const span = hours[day]?.[0];
              return (
                <tr key={day}>
                  <td>
                    <label className="choice">
                      <input type="checkbox" checked={Boolean(span)} onChange={(event) => setDay(day, event.target.checked ? ["09:00", "18:00"] : null)} data-testid={`team-day-${day}`} />{" "}
                      {t(`enum.weekdays.${day}` as MessageKey)}
                    </label>
                  </td>
                  <td>
                    {span ? (
                      <>
                        <input type="time" value={span[0]} onChange={(event) => setDay(day, [event.target.value, span[1]])} aria-label={t("ws.teams.opens")} />
                        {" – "}
                        <input type="time" value={span[1]} onChange={(event) => setDay(day, [span[0], event.target.value])} aria-label={t("ws.teams.closes")} />
                      </>
                    ) : (
                      <span className="muted small">{t("ws.teams.closed")}</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </fieldset>
      <fieldset>
        <legend>{t("ws.teams.holidays")}</legend>
        <div className="field-grid">
          <label className="field">
            <span>{t("ws.teams.country")}</span>
            <select value={form.holiday_country ?? ""} onChange={(event) => setForm({ ...form, holiday_country: event.target.value, holiday_subdivision: "" })} data-testid="team-country">
              <option value="">{t("ws.teams.noCalendar")}</option>
              {["BR", "PT", "US", "AR", "MX"].map((code) => (
                <option key={code} value={code}>
                  {t(`ws.country.${code}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t("ws.teams.state")}</span>
            <select value={form.holiday_subdivision ?? ""} disabled={!form.holiday_country} onChange={(event) => setForm({ ...form, holiday_subdivision: event.target.value })} data-testid="team-state">
              <option value="">{t("ws.teams.nationalOnly")}</option>
              {states.map((code) => (
                <option key={code} value={code}>
                  {code}
                </option>
              ))}
            </select>
          </label>
        </div>
        <HolidayPreview country={form.holiday_country ?? ""} subdivision={form.holiday_subdivision ?? ""} />
        <span className="field-label">{t("ws.teams.ownDates")}</span>
        <div className="tag-editor">
          {(form.holidays ?? []).map((date) => (
            <span className="tag" key={date}>
              {date}
              <button type="button" className="icon-button" aria-label={`${t("common.remove")} ${date}`} onClick={() => setForm({ ...form, holidays: (form.holidays ?? []).filter((d) => d !== date) })}>
                ×
              </button>
            </span>
          ))}
          <input type="date" value={newDate} onChange={(event) => setNewDate(event.target.value)} aria-label={t("ws.teams.addDate")} />
          <button
            type="button"
            disabled={!newDate}
            onClick={() => {
              setForm({ ...form, holidays: [...new Set([...(form.holidays ?? []), newDate])].sort() });
              setNewDate("");
            }}
          >
            {t("common.add")}
          </button>
        </div>
      </fieldset>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary" data-testid="team-save">
          {t("ws.save")}
        </button>
        <button type="button" onClick={onDone}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

function hoursText(t: (key: MessageKey) => string, team: Team): string {
  const open = DAYS.filter((day) => team.business_hours?.[day]?.length);
  if (open.length === 0) return t("ws.teams.alwaysOpen");
  return open.map((day) => `${t(`enum.weekdays.${day}` as MessageKey)} ${team.business_hours[day].map((span) => span.join("–")).join(", ")}`).join(" · ");
}

export function TeamsPage({ user }: PageProps) {
  const { t } = useT();
  const { data: teams, error, reload } = useLoad(() => ws.teams());
  const [editing, setEditing] = useState<Partial<Team> | null>(null);
  const admin = can(user.roles, "admin");
  return (
    <div className="page" data-testid="teams-page">
      <PageHeader title={t("nav.teams")} subtitle={t("ws.teams.subtitle")}>
        {admin && !editing && (
          <button type="button" className="primary" onClick={() => setEditing(emptyTeam())} data-testid="new-team">
            + {t("ws.teams.create")}
          </button>
        )}
      </PageHeader>
      {editing && (
        <TeamForm
          team={editing}
          onDone={() => {
            setEditing(null);
            void reload();
          }}
        />
      )}
      <ErrorNote error={error} />
      {teams && teams.length === 0 && !editing && <div className="empty-state">{t("ws.teams.empty")}</div>}
      <div className="card-grid">
        {(teams ?? []).map((team) => (
          <article className="card" key={team.id} data-testid="team-card">
            <header className="card-head">
              <strong>{team.name}</strong>
              <Pill>{t("ws.teams.priorityN", { n: team.priority })}</Pill>
              <span className="spacer" />
              {admin && (
                <button type="button" className="link" onClick={() => setEditing(team)}>
                  {t("ws.edit")}
                </button>
              )}
            </header>
            <p className="small">{hoursText(t, team)}</p>
            <p className="small muted">
              {team.holiday_country
                ? t("ws.teams.calendar", { country: t(`ws.country.${team.holiday_country}` as MessageKey), state: team.holiday_subdivision || t("ws.teams.nationalOnly") })
                : t("ws.teams.noCalendar")}
              {team.holidays.length > 0 && ` · ${t("ws.teams.ownCount", { n: team.holidays.length })}`}
            </p>
            <p className="small">
              {t("ws.teams.members")}: {team.member_names.join(", ") || "—"}
            </p>
          </article>
        ))}
      </div>
    </div>
  );
}
