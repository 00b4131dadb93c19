// Connect a WhatsApp Cloud API number, guided: what to copy from Meta's dashboard, a token check
// against the Graph API before saving, and the callback URL + verify token to paste back in Meta.
import { useEffect, useState } from "react";
import { ws, type GraphCheck } from "../../api/workspace";
import { useT } from "../../i18n";
import { Link, navigate } from "../../router";
import type { PageProps } from "../../routes";
import { CopyField, ErrorNote, PageHeader, errorText } from "../ui";
import { CheckResult } from "./CheckResult";

export function ChannelConnectPage(_props: PageProps) {
  const { t } = useT();
  const [form, setForm] = useState({
    name: "",
    phone_number_id: "",
    waba_id: "",
    access_token: "",
    app_secret: "",
    verify_token: "",
    graph_api_base_url: "",
    graph_api_version: "v23.0",
  });
  const [callbackUrl, setCallbackUrl] = useState("");
  const [check, setCheck] = useState<GraphCheck | null>(null);
  const [busy, setBusy] = useState<"" | "check" | "save">("");
  const [error, setError] = useState<string | null>(null);
  const [advanced, setAdvanced] = useState(false);

  useEffect(() => {
    ws.connectInfo().then(
      (info) => {
        setCallbackUrl(info.callback_url);
        setForm((current) => (current.verify_token ? current : { ...current, verify_token: info.verify_token }));
      },
      (failure) => setError(errorText(failure)),
    );
  }, []);

  const set = (name: keyof typeof form) => (event: { target: { value: string } }) => {
    setForm({ ...form, [name]: event.target.value });
    if (name === "access_token" || name === "phone_number_id" || name === "graph_api_base_url") setCheck(null);
  };

  const runCheck = async () => {
    setBusy("check");
    setError(null);
    try {
      setCheck(
        await ws.graphCheck({
          phone_number_id: form.phone_number_id.trim(),
          access_token: form.access_token.trim(),
          graph_api_base_url: form.graph_api_base_url.trim() || undefined,
          graph_api_version: form.graph_api_version.trim() || undefined,
        }),
      );
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy("");
    }
  };

  const save = async () => {
    setBusy("save");
    setError(null);
    try {
      const channel = await ws.createChannel({
        kind: "whatsapp_cloud",
        name: form.name.trim() || check?.info.verified_name || form.phone_number_id,
        phone_number_id: form.phone_number_id.trim(),
        waba_id: form.waba_id.trim(),
        display_phone_number: check?.info.display_phone_number ?? "",
        access_token: form.access_token.trim(),
        app_secret: form.app_secret.trim(),
        verify_token: form.verify_token.trim(),
        graph_api_base_url: form.graph_api_base_url.trim() || undefined,
        graph_api_version: form.graph_api_version.trim() || undefined,
      });
      navigate(`/channels/${channel.id}`);
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy("");
    }
  };

  const ready = form.phone_number_id && form.waba_id && form.access_token && form.app_secret && form.verify_token;
  return (
    <div className="page narrow" data-testid="channel-connect">
      <PageHeader title={t("ws.connect.title")} subtitle={t("ws.connect.subtitle")}>
        <Link to="/channels">← {t("nav.channels")}</Link>
      </PageHeader>
      <ol className="steps-guide">
        <li className="card">
          <h2>1. {t("ws.connect.step1")}</h2>
          <p className="muted">{t("ws.connect.step1Help")}</p>
          <label className="field">
            <span>{t("ws.name")}</span>
            <input value={form.name} onChange={set("name")} placeholder={t("ws.connect.namePlaceholder")} data-testid="channel-name" />
          </label>
          <div className="field-grid">
            <label className="field">
              <span>{t("ws.connect.phoneNumberId")}</span>
              <input value={form.phone_number_id} onChange={set("phone_number_id")} inputMode="numeric" data-testid="channel-phone-number-id" />
              <small className="hint">{t("ws.connect.phoneNumberIdHelp")}</small>
            </label>
            <label className="field">
              <span>{t("ws.connect.wabaId")}</span>
              <input value={form.waba_id} onChange={set("waba_id")} inputMode="numeric" data-testid="channel-waba-id" />
              <small className="hint">{t("ws.connect.wabaIdHelp")}</small>
            </label>
          </div>
          <label className="field">
            <span>{t("ws.connect.token")}</span>
            <input type="password" autoComplete="off" value={form.access_token} onChange={set("access_token")} data-testid="channel-token" />
            <small className="hint">{t("ws.connect.tokenHelp")}</small>
          </label>
          <label className="field">
            <span>{t("ws.connect.appSecret")}</span>
            <input type="password" autoComplete="off" value={form.app_secret} onChange={set("app_secret")} data-testid="channel-app-secret" />
            <small className="hint">{t("ws.connect.appSecretHelp")}</small>
          </label>
          <button type="button" className="link" onClick={() => setAdvanced(!advanced)} aria-expanded={advanced} data-testid="channel-advanced">
            {advanced ? "▾" : "▸"} {t("ws.connect.advanced")}
          </button>
          {advanced && (
            <div className="field-grid">
              <label className="field">
                <span>{t("ws.connect.graphUrl")}</span>
                <input value={form.graph_api_base_url} onChange={set("graph_api_base_url")} placeholder="https://graph.facebook.com" data-testid="channel-graph-url" />
              </label>
              <label className="field">
                <span>{t("ws.connect.graphVersion")}</span>
                <input value={form.graph_api_version} onChange={set("graph_api_version")} />
              </label>
            </div>
          )}
          <div className="actions">
            <button type="button" onClick={runCheck} disabled={!form.phone_number_id || !form.access_token || busy !== ""} data-testid="channel-check">
              {busy === "check" ? t("common.working") : t("ws.connect.check")}
            </button>
          </div>
          {check && <CheckResult check={check} />}
        </li>
        <li className="card">
          <h2>2. {t("ws.connect.step2")}</h2>
          <p className="muted">{t("ws.connect.step2Help")}</p>
          <CopyField label={t("ws.connect.callbackUrl")} value={callbackUrl} testId="callback-url" />
          <label className="field">
            <span>{t("ws.connect.verifyToken")}</span>
            <div className="copy-row">
              <input value={form.verify_token} onChange={set("verify_token")} data-testid="channel-verify-token" />
            </div>
            <small className="hint">{t("ws.connect.verifyTokenHelp")}</small>
          </label>
          <CopyField label={t("ws.connect.verifyTokenCopy")} value={form.verify_token} testId="verify-token" />
          <p className="hint">{t("ws.connect.fields")}</p>
        </li>
        <li className="card">
          <h2>3. {t("ws.connect.step3")}</h2>
          <p className="muted">{t(check?.ok ? "ws.connect.step3Ready" : "ws.connect.step3Help")}</p>
          <ErrorNote error={error} />
          <div className="actions">
            <button type="button" className="primary" disabled={!ready || busy !== ""} onClick={save} data-testid="channel-save">
              {busy === "save" ? t("common.working") : t("ws.connect.save")}
            </button>
          </div>
        </li>
      </ol>
    </div>
  );
}
