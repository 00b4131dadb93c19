// The Runs page: real runs newest first, filtered on the server (flow, status, period, contact,
// errors, end reason), in cursor pages; test runs apart behind a toggle; bulk actions for admins.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { filtersFromQuery, filtersToQuery, periodSince, RUN_STATUSES, runsApi, type Batch, type RunFilters, type RunRow } from "../../api/runs";
import type { FlowSummary, User } from "../../api/types";
import { formatDateTime, useT } from "../../i18n";
import { Link, navigate } from "../../router";
import { formatDuration, secondsBetween } from "./format";
import { RunStatusPill } from "./StatusPill";
import "./runs.css";

const PERIODS = ["24h", "7d", "30d", "all", "custom"] as const;
type Period = (typeof PERIODS)[number];

function periodOf(filters: RunFilters): Period {
  if (!filters.since && !filters.until) return "all";
  if (filters.until) return "custom";
  const hours = (Date.now() - new Date(filters.since!).getTime()) / 3600_000;
  for (const [name, limit] of [["24h", 24], ["7d", 168], ["30d", 720]] as const) if (Math.abs(hours - limit) < 0.5) return name;
  return "custom";
}

function toLocalInput(iso?: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  const offset = date.getTimezoneOffset() * 60_000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 16);
}

export function RunsPage({ user }: { user: User }) {
  const { t, tOptional, language } = useT();
  const [filters, setFilters] = useState<RunFilters>(() => filtersFromQuery(window.location.search));
  const [period, setPeriod] = useState<Period>(() => periodOf(filtersFromQuery(window.location.search)));
  const [rows, setRows] = useState<RunRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [flows, setFlows] = useState<FlowSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [batch, setBatch] = useState<Batch | null>(null);
  const request = useRef(0);
  const isAdmin = user.roles.includes("admin");

  useEffect(() => {
    endpoints.flows("", "").then(setFlows, () => setFlows([]));
  }, []);

  const load = useCallback(async (current: RunFilters) => {
    const mine = ++request.current;
    try {
      const page = await runsApi.list(current);
      if (mine !== request.current) return;
      setRows(page.results);
      setNext(page.next);
      setError(null);
    } catch (failure) {
      if (mine === request.current) setError(failure instanceof ApiError ? failure.body.message : String(failure));
    }
  }, []);

  // Filters live in the URL, so links from the dashboard and alerts open the same view.
  useEffect(() => {
    const query = filtersToQuery(filters).toString();
    const path = `/runs${query ? `?${query}` : ""}`;
    if (window.location.pathname + window.location.search !== path) window.history.replaceState(null, "", path);
    const timer = setTimeout(() => void load(filters), 250);
    return () => clearTimeout(timer);
  }, [filters, load]);

  const update = (changes: Partial<RunFilters>) => setFilters((current) => ({ ...current, ...changes }));

  const choosePeriod = (name: Period) => {
    setPeriod(name);
    if (name !== "custom") update({ since: periodSince(name), until: undefined });
  };

  const toggleStatus = (status: (typeof RUN_STATUSES)[number]) => {
    const current = new Set(filters.status ?? []);
    if (current.has(status)) current.delete(status);
    else current.add(status);
    update({ status: RUN_STATUSES.filter((value) => current.has(value)) });
  };

  const more = async () => {
    if (!next) return;
    const page = await runsApi.list(filters, next);
    setRows((current) => [...(current ?? []), ...page.results]);
    setNext(page.next);
  };

  const bulk = async (action: "cancel" | "retry" | "restart") => {
    try {
      const preview = await runsApi.bulk(action, filters, true);
      if (!window.confirm(t("runsPage.bulkConfirm", { action: tOptional(`action.${action}`) ?? action, n: preview.total }))) return;
      setBatch(await runsApi.bulk(action, filters));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.body.message : String(failure));
    }
  };

  useEffect(() => {
    if (!batch || batch.finished_at) return;
    const timer = setInterval(() => {
      runsApi.batch(batch.id).then((progress) => {
        setBatch(progress);
        if (progress.finished_at) void load(filters);
      }, () => undefined);
    }, 1000);
    return () => clearInterval(timer);
  }, [batch, filters, load]);

  return (
    <div className="runs-page" data-testid="runs-page">
      <div className="list-toolbar">
        <h1>{t("runsPage.title")}</h1>
        <span className="spacer" />
        <label className="toggle" title={t("runsPage.testsHint")}>
          <input type="checkbox" checked={Boolean(filters.tests)} onChange={(event) => update({ tests: event.target.checked || undefined })} data-testid="filter-tests" />{" "}
          {t("runsPage.tests")}
        </label>
      </div>
      <div className="runs-filters" data-testid="runs-filters">
        <select aria-label={t("runsPage.flow")} value={filters.flow ?? ""} onChange={(event) => update({ flow: Number(event.target.value) || undefined })} data-testid="filter-flow">
          <option value="">{t("runsPage.allFlows")}</option>
          {flows.map((flow) => (
            <option key={flow.id} value={flow.id}>
              {flow.name}
            </option>
          ))}
        </select>
        <select aria-label={t("runsPage.period")} value={period} onChange={(event) => choosePeriod(event.target.value as Period)} data-testid="filter-period">
          {PERIODS.map((name) => (
            <option key={name} value={name}>
              {t(`runsPage.period.${name}`)}
            </option>
          ))}
        </select>
        {period === "custom" && (
          <>
            <label className="small">
              {t("runsPage.since")}{" "}
              <input type="datetime-local" value={toLocalInput(filters.since)} onChange={(event) => update({ since: event.target.value ? new Date(event.target.value).toISOString() : undefined })} />
            </label>
            <label className="small">
              {t("runsPage.until")}{" "}
              <input type="datetime-local" value={toLocalInput(filters.until)} onChange={(event) => update({ until: event.target.value ? new Date(event.target.value).toISOString() : undefined })} />
            </label>
          </>
        )}
        <input type="search" placeholder={t("runsPage.contact")} aria-label={t("runsPage.contact")} value={filters.contact ?? ""} onChange={(event) => update({ contact: event.target.value || undefined })} data-testid="filter-contact" />
        <input type="search" placeholder={t("runsPage.search")} aria-label={t("runsPage.search")} value={filters.q ?? ""} onChange={(event) => update({ q: event.target.value || undefined })} data-testid="filter-q" />
        <label className="toggle">
          <input type="checkbox" checked={Boolean(filters.has_error)} onChange={(event) => update({ has_error: event.target.checked || undefined })} data-testid="filter-has-error" /> {t("runsPage.hasError")}
        </label>
        <button type="button" className="link" onClick={() => { setPeriod("all"); setFilters({}); }}>
          {t("runsPage.clear")}
        </button>
      </div>
      <div className="status-chips" role="group" aria-label={t("runsPage.status")}>
        {RUN_STATUSES.map((status) => (
          <button key={status} type="button" className={`chip run-${status}`} aria-pressed={filters.status?.includes(status) ?? false} onClick={() => toggleStatus(status)} data-testid={`filter-status-${status}`}>
            {t(`runStatus.${status}`)}
          </button>
        ))}
      </div>
      {filters.tests && <p className="banner info">{t("runsPage.testsHint")}</p>}
      {!filters.tests && rows && rows.length > 0 && (
        <div className="bulk-bar">
          <span className="muted small">{t("runsPage.bulk")}</span>
          {isAdmin ? (
            <>
              <button type="button" onClick={() => void bulk("cancel")} data-testid="bulk-cancel">{t("runsPage.bulkCancel")}</button>
              <button type="button" onClick={() => void bulk("retry")} data-testid="bulk-retry">{t("runsPage.bulkRetry")}</button>
              <button type="button" onClick={() => void bulk("restart")} data-testid="bulk-restart">{t("runsPage.bulkRestart")}</button>
            </>
          ) : (
            <span className="muted small">{t("runsPage.bulkAdminOnly")}</span>
          )}
          {batch && <span className="pill" data-testid="bulk-progress">{t("runsPage.bulkProgress", { recorded: batch.recorded, total: batch.total })}</span>}
        </div>
      )}
      {error && <p className="field-errors" role="alert">{error}</p>}
      {rows === null ? (
        <p className="muted">{t("common.loading")}</p>
      ) : rows.length === 0 ? (
        <p className="muted" data-testid="runs-empty">{t("runsPage.empty")}</p>
      ) : (
        <table className="flows runs-table" data-testid="runs-table">
          <thead>
            <tr>
              <th>#</th>
              <th>{t("runsPage.status")}</th>
              <th>{t("runsPage.flow")}</th>
              <th>{t("runView.contact")}</th>
              <th>{t("runsPage.started")}</th>
              <th>{t("runsPage.duration")}</th>
              <th>{t("runsPage.where")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} data-testid="run-row" data-run-id={row.id} className="clickable" onClick={() => navigate(`/runs/${row.id}`)}>
                <td>
                  <Link to={`/runs/${row.id}`}>#{row.id}</Link>
                </td>
                <td>
                  <RunStatusPill status={row.status} />
                </td>
                <td>
                  {row.flow.name} <span className="muted small">r{row.revision}</span>
                </td>
                <td>
                  {row.contact.name || "—"}
                  <div className="muted small">{row.contact.phone}</div>
                </td>
                <td className="small">{formatDateTime(language, row.started_at)}</td>
                <td className="small">{formatDuration(secondsBetween(row.started_at, row.ended_at), language)}</td>
                <td className="small reason">
                  {row.status === "waiting" || row.status === "active" ? t("runsPage.waitingAt", { node: row.current_node }) : row.end_reason}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => void more()} data-testid="runs-more">
          {t("runsPage.more")}
        </button>
      )}
    </div>
  );
}
