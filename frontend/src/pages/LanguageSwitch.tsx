import { endpoints } from "../api/endpoints";
import type { Language } from "../api/types";
import { useLanguage, useT } from "../i18n";

/** Switches pt-BR / English; when logged in the choice is saved on the user (PATCH session). */
export function LanguageSwitch({ persist = false }: { persist?: boolean }) {
  const { t, language } = useT();
  const setLanguage = useLanguage((state) => state.setLanguage);
  return (
    <select
      className="language-switch"
      aria-label={t("nav.language")}
      data-testid="language-switch"
      value={language}
      onChange={(event) => {
        const next = event.target.value as Language;
        setLanguage(next);
        localStorage.setItem("fluxo.language", next);
        if (persist) void endpoints.saveLanguage(next).catch(() => undefined);
      }}
    >
      <option value="pt-BR">Português</option>
      <option value="en">English</option>
    </select>
  );
}
