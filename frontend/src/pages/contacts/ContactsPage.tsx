// Contacts: search by phone or name, filter by tag, attribute and consent; import and export CSV.
import { useEffect, useState } from "react";
import { ws, type Contact } from "../../api/workspace";
import { formatDateTime, useT, type MessageKey } from "../../i18n";
import { Link, setQuery, useLocation } from "../../router";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, can, errorText, useLoad } from "../ui";

const PAGE = 50;

export function consentTone(state: string | undefined): "ok" | "bad" | "neutral" {
  return state === "opted_in" ? "ok" : state === "opted_out" ? "bad" : "neutral";
}

export function ConsentPill({ contact, category = "marketing" }: { contact: Pick<Contact, "consent">; category?: string }) {
  const { t } = useT();
  const state = contact.consent?.[category]?.state ?? "unknown";
  return <Pill tone={consentTone(state)}>{t(`ws.consent.${state}` as MessageKey)}</Pill>;
}

export function ContactsPage({ user }: PageProps) {
  const { t, language } = useT();
  const search = useLocation((state) => state.search);
  const params = new URLSearchParams(search);
  const filters = {
    q: params.get("q") ?? "",
    tag: params.get("tag") ?? "",
    consent: params.get("consent") ?? "",
    consent_category: params.get("consent_category") ?? "",
    attribute: params.get("attribute") ?? "",
  };
  const page = Number(params.get("page") ?? 0);
  const [typed, setTyped] = useState(filters.q);
  const [attribute, setAttribute] = useState(filters.attribute);
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const { data: tags } = useLoad(() => ws.tags());
  const update = (changes: Partial<typeof filters> & { page?: string }) => setQuery({ ...filters, page: "", ...changes });

  // Typing searches after a short pause, like the flow list.
  useEffect(() => {
    const timer = setTimeout(() => {
      if (typed !== filters.q) update({ q: typed });
    }, 300);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typed]);

  const key = JSON.stringify({ ...filters, page });
  useEffect(() => {
    let alive = true;
    const query = { ...filters, limit: PAGE, offset: page * PAGE };
    Promise.all([ws.contacts(query), ws.contactCount(filters)]).then(
      ([rows, count]) => {
        if (!alive) return;
        setContacts(rows);
        setTotal(count);
        setError(null);
      },
      (failure) => alive && setError(errorText(failure)),
    );
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return (
    <div className="page" data-testid="contacts-page">
      <PageHeader title={t("nav.contacts")} subtitle={t("ws.contacts.subtitle")}>
        <a className="button" href={ws.exportUrl(filters)} data-testid="export-contacts">
          ⇩ {t("ws.contacts.export")}
        </a>
        {can(user.roles, "editor") && (
          <Link to="/contacts/import" className="button primary" data-testid="import-contacts">
            ⇧ {t("ws.contacts.import")}
          </Link>
        )}
      </PageHeader>
      <div className="filters">
        <input type="search" placeholder={t("ws.contacts.search")} value={typed} onChange={(event) => setTyped(event.target.value)} data-testid="contact-search" />
        <select aria-label={t("ws.contacts.tag")} value={filters.tag} onChange={(event) => update({ tag: event.target.value })} data-testid="contact-tag-filter">
          <option value="">{t("ws.contacts.allTags")}</option>
          {(tags ?? []).map((tag) => (
            <option key={tag.name} value={tag.name}>
              {tag.name}
            </option>
          ))}
        </select>
        <select aria-label={t("ws.contacts.consent")} value={filters.consent} onChange={(event) => update({ consent: event.target.value })} data-testid="contact-consent-filter">
          <option value="">{t("ws.contacts.anyConsent")}</option>
          {["opted_in", "opted_out", "unknown"].map((state) => (
            <option key={state} value={state}>
              {t(`ws.consent.${state}` as MessageKey)}
            </option>
          ))}
        </select>
        <select aria-label={t("ws.contacts.category")} value={filters.consent_category || "marketing"} onChange={(event) => update({ consent_category: event.target.value })}>
          {["marketing", "utility", "authentication"].map((category) => (
            <option key={category} value={category}>
              {t(`ws.consentCategory.${category}` as MessageKey)}
            </option>
          ))}
        </select>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            update({ attribute });
          }}
        >
          <input placeholder={t("ws.contacts.attribute")} value={attribute} onChange={(event) => setAttribute(event.target.value)} aria-label={t("ws.contacts.attribute")} />
        </form>
      </div>
      <ErrorNote error={error} />
      {contacts === null ? (
        <p className="muted">{t("common.loading")}</p>
      ) : contacts.length === 0 ? (
        <div className="empty-state">{t("ws.contacts.empty")}</div>
      ) : (
        <>
          <table className="data-table" data-testid="contact-table">
            <thead>
              <tr>
                <th>{t("ws.contacts.phone")}</th>
                <th>{t("ws.name")}</th>
                <th>{t("ws.contacts.tags")}</th>
                <th>{t(`ws.consentCategory.${filters.consent_category || "marketing"}` as MessageKey)}</th>
                <th>{t("ws.contacts.lastMessage")}</th>
              </tr>
            </thead>
            <tbody>
              {contacts.map((contact) => (
                <tr key={contact.id} data-testid="contact-row">
                  <td>
                    <Link to={`/contacts/${contact.id}`}>{contact.phone}</Link>
                  </td>
                  <td>{contact.name || "—"}</td>
                  <td>
                    {contact.tags.map((tag) => (
                      <span className="tag" key={tag}>
                        {tag}
                      </span>
                    ))}
                  </td>
                  <td>
                    <ConsentPill contact={contact} category={filters.consent_category || "marketing"} />
                  </td>
                  <td className="small">{contact.last_inbound_at ? formatDateTime(language, contact.last_inbound_at) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <span className="muted small" data-testid="contact-total">
              {t("ws.contacts.showing", { from: page * PAGE + 1, to: page * PAGE + contacts.length, total })}
            </span>
            <button type="button" disabled={page === 0} onClick={() => update({ page: String(page - 1) })}>
              ← {t("ws.previous")}
            </button>
            <button type="button" disabled={(page + 1) * PAGE >= total} onClick={() => update({ page: String(page + 1) })}>
              {t("ws.next")} →
            </button>
          </div>
        </>
      )}
    </div>
  );
}
