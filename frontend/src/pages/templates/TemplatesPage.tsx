// WhatsApp templates synced from Meta: filter by name, status, category and language; a preview
// of each as the customer sees it; "sync now" for editors.
import { useMemo, useState } from "react";
import { ws, type Template } from "../../api/workspace";
import { formatDateTime, useT, type MessageKey } from "../../i18n";
import { setQuery, useLocation } from "../../router";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, can, errorText, useLoad } from "../ui";
import { TemplatePreview } from "./TemplatePreview";

const STATUS_TONE: Record<string, "ok" | "warn" | "bad" | "neutral"> = {
  APPROVED: "ok",
  PENDING: "warn",
  IN_APPEAL: "warn",
  REJECTED: "bad",
  PAUSED: "bad",
  DISABLED: "neutral",
};

export function TemplatesPage({ user }: PageProps) {
  const { t, tOptional, language } = useT();
  const search = useLocation((state) => state.search);
  const filters = new URLSearchParams(search);
  const q = filters.get("q") ?? "";
  const status = filters.get("status") ?? "";
  const category = filters.get("category") ?? "";
  const lang = filters.get("language") ?? "";
  const { data: templates, error, reload } = useLoad(() => ws.templates());
  const [syncing, setSyncing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [syncError, setSyncError] = useState<string | null>(null);
  const update = (name: string, value: string) => setQuery({ q, status, category, language: lang, [name]: value });

  const languages = useMemo(() => [...new Set((templates ?? []).map((tpl) => tpl.language))].sort(), [templates]);
  const shown = (templates ?? []).filter(
    (tpl: Template) =>
      (!q || tpl.name.toLowerCase().includes(q.toLowerCase()) || tpl.body_text.toLowerCase().includes(q.toLowerCase())) &&
      (!status || tpl.status === status) &&
      (!category || tpl.category === category) &&
      (!lang || tpl.language === lang),
  );

  const sync = async () => {
    setSyncing(true);
    setSyncError(null);
    try {
      const result = await ws.syncTemplates();
      const failed = result.channels.filter((item) => !item.ok);
      if (result.channels.length === 0) setNotice(t("ws.templates.noCloudChannel"));
      else
        setNotice(
          result.channels
            .filter((item) => item.ok)
            .map((item) => `${item.channel}: ${t("ws.templates.synced", { created: item.created ?? 0, updated: item.updated ?? 0, disabled: item.disabled ?? 0 })}`)
            .join(" · "),
        );
      if (failed.length) setSyncError(failed.map((item) => `${item.channel}: ${item.error}`).join(" · "));
      await reload();
    } catch (failure) {
      setSyncError(errorText(failure));
    } finally {
      setSyncing(false);
    }
  };

  return (
    <div className="page" data-testid="templates-page">
      <PageHeader title={t("nav.templates")} subtitle={t("ws.templates.subtitle")}>
        {can(user.roles, "editor") && (
          <button type="button" className="primary" onClick={sync} disabled={syncing} data-testid="sync-templates">
            ⟳ {syncing ? t("common.working") : t("ws.templates.sync")}
          </button>
        )}
      </PageHeader>
      {notice && (
        <p className="notice" data-testid="sync-notice">
          {notice}
        </p>
      )}
      <ErrorNote error={syncError ?? error} />
      <div className="filters">
        <input type="search" placeholder={t("ws.templates.search")} value={q} onChange={(event) => update("q", event.target.value)} data-testid="template-search" />
        <select aria-label={t("ws.status")} value={status} onChange={(event) => update("status", event.target.value)} data-testid="template-status">
          <option value="">{t("ws.allStatuses")}</option>
          {Object.keys(STATUS_TONE).map((value) => (
            <option key={value} value={value}>
              {t(`ws.templateStatus.${value}` as MessageKey)}
            </option>
          ))}
        </select>
        <select aria-label={t("ws.templates.category")} value={category} onChange={(event) => update("category", event.target.value)}>
          <option value="">{t("ws.templates.allCategories")}</option>
          {["MARKETING", "UTILITY", "AUTHENTICATION"].map((value) => (
            <option key={value} value={value}>
              {t(`ws.category.${value}` as MessageKey)}
            </option>
          ))}
        </select>
        <select aria-label={t("ws.templates.language")} value={lang} onChange={(event) => update("language", event.target.value)}>
          <option value="">{t("ws.templates.allLanguages")}</option>
          {languages.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      </div>
      {templates === null ? (
        <p className="muted">{t("common.loading")}</p>
      ) : shown.length === 0 ? (
        <div className="empty-state">{templates.length === 0 ? t("ws.templates.empty") : t("ws.noMatch")}</div>
      ) : (
        <div className="template-grid">
          {shown.map((tpl) => (
            <article className="card template-card" key={tpl.id} id={`template-${tpl.name}-${tpl.language}`} data-testid="template-card">
              <header>
                <strong>{tpl.name}</strong>
                <Pill tone={STATUS_TONE[tpl.status] ?? "neutral"}>{tOptional(`ws.templateStatus.${tpl.status}`) ?? tpl.status}</Pill>
              </header>
              <p className="muted small">
                {tOptional(`ws.category.${tpl.category}`) ?? tpl.category} · {tpl.language} · {t("ws.templates.variables", { n: tpl.parameter_count })}
              </p>
              <TemplatePreview components={tpl.components} />
              {tpl.synced_at && <p className="muted small">{t("ws.templates.syncedAt", { at: formatDateTime(language, tpl.synced_at) })}</p>}
            </article>
          ))}
        </div>
      )}
    </div>
  );
}
