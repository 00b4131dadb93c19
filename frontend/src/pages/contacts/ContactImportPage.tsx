// CSV import: choose the file, map its columns, run a dry run that lists the bad rows with the
// reason, then import (everything or nothing) with a progress bar.
import { useEffect, useState } from "react";
import { ws, type DryRun, type ImportMapping, type ImportState, type ImportUpload } from "../../api/workspace";
import { useT, type MessageKey } from "../../i18n";
import { Link } from "../../router";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, errorText, readFile } from "../ui";

const REGIONS = ["BR", "PT", "US", "AR", "MX", "CO", "CL", "ES"];

function ColumnSelect({ label, value, columns, onChange, testId, required = false }: { label: string; value: string; columns: string[]; onChange: (value: string) => void; testId: string; required?: boolean }) {
  const { t } = useT();
  return (
    <label className="field">
      <span>{label}</span>
      <select value={value} onChange={(event) => onChange(event.target.value)} data-testid={testId} required={required}>
        <option value="">{required ? t("ws.import.chooseColumn") : t("ws.import.noColumn")}</option>
        {columns.map((column) => (
          <option key={column} value={column}>
            {column}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ContactImportPage(_props: PageProps) {
  const { t } = useT();
  const [upload, setUpload] = useState<ImportUpload | null>(null);
  const [mapping, setMapping] = useState<ImportMapping>({ phone: "", attributes: [] });
  const [region, setRegion] = useState("BR");
  const [category, setCategory] = useState("marketing");
  const [extraTag, setExtraTag] = useState("");
  const [dry, setDry] = useState<DryRun | null>(null);
  const [skip, setSkip] = useState(false);
  const [state, setState] = useState<ImportState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const options = () => ({ mapping, default_region: region, consent_category: category, extra_tag: extraTag, skip_invalid: skip });

  const choose = async (file: File) => {
    setError(null);
    setDry(null);
    setState(null);
    setBusy(true);
    try {
      const uploaded = await ws.uploadImport(await readFile(file), file.name);
      setUpload(uploaded);
      const guess = uploaded.suggested_mapping;
      setMapping({ phone: guess.phone ?? "", name: guess.name ?? "", tags: guess.tags ?? "", consent: guess.consent ?? "", attributes: guess.attributes ?? [] });
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  const check = async () => {
    if (!upload) return;
    setBusy(true);
    setError(null);
    try {
      setDry(await ws.dryRun(upload.id, options()));
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  const run = async () => {
    if (!upload) return;
    setBusy(true);
    setError(null);
    try {
      setState(await ws.runImport(upload.id, options()));
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };

  // While the worker imports, ask for the progress a few times a second.
  useEffect(() => {
    if (!state || !["queued", "running"].includes(state.status)) return;
    const timer = setTimeout(async () => {
      try {
        const next = await ws.importState(state.id);
        setState(next);
        if (!["queued", "running"].includes(next.status)) setBusy(false);
      } catch (failure) {
        setError(errorText(failure));
      }
    }, 400);
    return () => clearTimeout(timer);
  }, [state]);

  const columns = upload?.columns ?? [];
  const used = new Set([mapping.phone, mapping.name, mapping.tags, mapping.consent].filter(Boolean));
  const setMap = (name: keyof ImportMapping) => (value: string) => {
    setMapping({ ...mapping, [name]: value, attributes: mapping.attributes.filter((column) => column !== value) });
    setDry(null);
  };
  const progress = state?.progress ?? { processed: 0, total: 0 };
  const finished = state?.status === "done" || state?.status === "failed";

  return (
    <div className="page narrow" data-testid="contact-import">
      <PageHeader title={t("ws.import.title")} subtitle={t("ws.import.subtitle")}>
        <Link to="/contacts">← {t("nav.contacts")}</Link>
      </PageHeader>
      <ol className="steps-guide">
        <li className="card">
          <h2>1. {t("ws.import.step1")}</h2>
          <p className="muted small">{t("ws.import.step1Help")}</p>
          <input type="file" accept=".csv,text/csv" disabled={busy && !finished && state !== null} onChange={(event) => event.target.files?.[0] && void choose(event.target.files[0])} data-testid="import-file" />
          {upload && (
            <>
              <p className="small" data-testid="import-rows">
                {t("ws.import.rows", { n: upload.row_count, file: upload.filename })}
              </p>
              <div className="table-scroll">
                <table className="data-table compact">
                  <thead>
                    <tr>
                      {columns.map((column) => (
                        <th key={column}>{column}</th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {upload.sample.map((row, index) => (
                      <tr key={index}>
                        {columns.map((column) => (
                          <td key={column}>{row[column]}</td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </li>
        {upload && (
          <li className="card">
            <h2>2. {t("ws.import.step2")}</h2>
            <div className="field-grid">
              <ColumnSelect label={t("ws.contacts.phone")} value={mapping.phone} columns={columns} onChange={setMap("phone")} testId="map-phone" required />
              <ColumnSelect label={t("ws.name")} value={mapping.name ?? ""} columns={columns} onChange={setMap("name")} testId="map-name" />
              <ColumnSelect label={t("ws.contacts.tags")} value={mapping.tags ?? ""} columns={columns} onChange={setMap("tags")} testId="map-tags" />
              <ColumnSelect label={t("ws.import.consentColumn")} value={mapping.consent ?? ""} columns={columns} onChange={setMap("consent")} testId="map-consent" />
              <label className="field">
                <span>{t("ws.import.consentCategory")}</span>
                <select value={category} onChange={(event) => setCategory(event.target.value)}>
                  {["marketing", "utility", "authentication"].map((value) => (
                    <option key={value} value={value}>
                      {t(`ws.consentCategory.${value}` as MessageKey)}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span>{t("ws.import.region")}</span>
                <select value={region} onChange={(event) => setRegion(event.target.value)} data-testid="import-region">
                  {REGIONS.map((value) => (
                    <option key={value} value={value}>
                      {value}
                    </option>
                  ))}
                </select>
                <small className="hint">{t("ws.import.regionHelp")}</small>
              </label>
            </div>
            <fieldset>
              <legend>{t("ws.import.attributes")}</legend>
              <div className="choices">
                {columns
                  .filter((column) => !used.has(column))
                  .map((column) => (
                    <label key={column} className="choice">
                      <input
                        type="checkbox"
                        checked={mapping.attributes.includes(column)}
                        onChange={() =>
                          setMapping({ ...mapping, attributes: mapping.attributes.includes(column) ? mapping.attributes.filter((c) => c !== column) : [...mapping.attributes, column] })
                        }
                      />{" "}
                      {column}
                    </label>
                  ))}
              </div>
            </fieldset>
            <label className="field">
              <span>{t("ws.import.extraTag")}</span>
              <input value={extraTag} onChange={(event) => setExtraTag(event.target.value)} placeholder="importado-2026-12" />
            </label>
            <div className="actions">
              <button type="button" onClick={check} disabled={!mapping.phone || busy} data-testid="dry-run">
                {t("ws.import.dryRun")}
              </button>
            </div>
          </li>
        )}
        {dry && (
          <li className="card" data-testid="dry-run-result">
            <h2>3. {t("ws.import.step3")}</h2>
            <p data-testid="dry-run-summary">
              {t("ws.import.summary", { valid: dry.valid, invalid: dry.invalid, create: dry.create, update: dry.update })}
            </p>
            {dry.invalid > 0 && (
              <>
                <table className="data-table compact" data-testid="bad-rows">
                  <thead>
                    <tr>
                      <th>{t("ws.import.line")}</th>
                      <th>{t("ws.contacts.phone")}</th>
                      <th>{t("ws.import.reason")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {dry.bad_rows.map((row) => (
                      <tr key={row.line} data-testid="bad-row">
                        <td>{row.line}</td>
                        <td>
                          <code>{row.phone || "∅"}</code>
                        </td>
                        <td>
                          <strong>{t(`ws.importError.${row.code}` as MessageKey)}</strong>
                          <div className="muted small">{row.reason}</div>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <label className="choice">
                  <input type="checkbox" checked={skip} onChange={(event) => setSkip(event.target.checked)} data-testid="skip-invalid" /> {t("ws.import.skip", { n: dry.invalid })}
                </label>
              </>
            )}
            <p className="hint">{t("ws.import.atomic")}</p>
            <div className="actions">
              <button type="button" className="primary" onClick={run} disabled={busy || (dry.invalid > 0 && !skip) || dry.valid === 0 || state !== null} data-testid="run-import">
                {t("ws.import.run", { n: dry.valid })}
              </button>
            </div>
            {state && (
              <div className="import-progress" data-testid="import-progress" data-status={state.status}>
                <progress value={progress.processed} max={Math.max(progress.total, 1)} />
                <span className="small">
                  {t(`ws.importStatus.${state.status}` as MessageKey)} — {progress.processed} / {progress.total}
                </span>
                {state.status === "done" && (
                  <p data-testid="import-done">
                    ✓ {t("ws.import.done", { created: state.created, updated: state.updated, skipped: state.skipped })} <Link to="/contacts">{t("ws.import.seeContacts")} →</Link>
                  </p>
                )}
                {state.status === "failed" && <ErrorNote error={`${t("ws.import.failed")} ${state.error}`} />}
              </div>
            )}
          </li>
        )}
      </ol>
      <ErrorNote error={error} />
    </div>
  );
}
