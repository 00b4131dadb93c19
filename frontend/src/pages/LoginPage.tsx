import { useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { Session } from "../api/types";
import { useT } from "../i18n";
import { LanguageSwitch } from "./LanguageSwitch";

export function LoginPage({ onLoggedIn }: { onLoggedIn: (session: Session) => void }) {
  const { t } = useT();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="login-page">
      <form
        className="login-card"
        data-testid="login-form"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            onLoggedIn(await endpoints.login(username, password));
          } catch (failure) {
            setError(failure instanceof ApiError && failure.status < 500 ? t("login.failed") : String((failure as Error).message));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>Fluxo</h1>
        <p className="muted">{t("login.subtitle")}</p>
        <label className="field">
          <span>{t("login.username")}</span>
          <input name="username" autoComplete="username" required value={username} onChange={(event) => setUsername(event.target.value)} />
        </label>
        <label className="field">
          <span>{t("login.password")}</span>
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
        </label>
        {error && (
          <p className="field-errors" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t("common.working") : t("login.submit")}
        </button>
        <LanguageSwitch />
      </form>
    </div>
  );
}
