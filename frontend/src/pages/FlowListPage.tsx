// The flow list: search, filter by status, create, duplicate, archive, import and export JSON,
// with the published revision and run counts of each flow.
import { useCallback, useEffect, useRef, useState } from "react";
import { errorText } from "../api/client";
import { endpoints, type ExportDocument } from "../api/endpoints";
import type { FlowStatus, FlowSummary, User } from "../api/types";
import { formatDateTime, useT } from "../i18n";
import { emptyDefinition } from "../editor/graph";
import { Link, navigate } from "../router";

function download(filename: string, data: unknown) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = filename;
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function slug(name: string): string {
  return name.normalize("NFKD").replace(/[^\w]+/g, "-").replace(/^-|-$/g, "").toLowerCase() || "flow";
}

export function FlowListPage({ user }: { user: User }) {
  const { t, language } = useT();
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState<"" | FlowStatus>("");
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [newName, setNewName] = useState("");
  const fileInput = useRef<HTMLInputElement>(null);
  const canEdit = user.roles.includes("editor") || user.roles.includes("admin");

  const reload = useCallback(async () => {
    try {
      setFlows(await endpoints.flows(search, status));
      setError(null);
    } catch (failure) {
      setError(errorText(failure));
    }
  }, [search, status]);

  useEffect(() => {
    const timer = setTimeout(() => void reload(), 250);
    return () => clearTimeout(timer);
  }, [reload]);

  const act = async (action: () => Promise<unknown>) => {
    try {
      await action();
      await reload();
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  const importFile = async (file: File) => {
    let document: ExportDocument;
    try {
      document = JSON.parse(await file.text()) as ExportDocument;
    } catch {
      setError(t("list.importInvalid"));
      return;
    }
    await act(() => endpoints.importFlow(document));
  };

  return (
    <div className="flow-list-page">
      <div className="list-toolbar">
        <h1>{t("list.title")}</h1>
        <input type="search" data-testid="flow-search" placeholder={t("list.search")} value={search} onChange={(event) => setSearch(event.target.value)} />
        <select aria-label={t("list.status")} value={status} onChange={(event) => setStatus(event.target.value as FlowStatus | "")}>
          <option value="">{t("list.allStatuses")}</option>
          <option value="draft">{t("status.draft")}</option>
          <option value="active">{t("status.active")}</option>
          <option value="archived">{t("status.archived")}</option>
        </select>
        <span className="spacer" />
        {canEdit && (
          <>
            <button type="button" onClick={() => fileInput.current?.click()} data-testid="import-flow">
              {t("list.import")}
            </button>
            <input
              ref={fileInput}
              type="file"
              accept="application/json,.json"
              hidden
              data-testid="import-file"
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) void importFile(file);
                event.target.value = "";
              }}
            />
            <button type="button" className="primary" data-testid="new-flow" onClick={() => setCreating(true)}>
              + {t("list.new")}
            </button>
          </>
        )}
      </div>
      {creating && (
        <form
          className="inline-form"
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              // A new flow starts on an empty canvas: the person picks the trigger it needs.
              const flow = await endpoints.createFlow(newName.trim(), "", emptyDefinition());
              navigate(`/flows/${flow.id}`);
            } catch (failure) {
              setError(errorText(failure));
            }
          }}
        >
          <input autoFocus required data-testid="new-flow-name" placeholder={t("list.newName")} value={newName} onChange={(event) => setNewName(event.target.value)} />
          <button type="submit" className="primary" data-testid="create-flow">
            {t("list.create")}
          </button>
          <button type="button" onClick={() => setCreating(false)}>
            {t("common.cancel")}
          </button>
        </form>
      )}
      {error && (
        <p className="field-errors" role="alert">
          {error}
        </p>
      )}
      {flows === null ? (
        <p className="muted">{t("common.loading")}</p>
      ) : flows.length === 0 ? (
        <p className="muted">{t("list.empty")}</p>
      ) : (
        <table className="flows" data-testid="flow-table">
          <thead>
            <tr>
              <th>{t("list.name")}</th>
              <th>{t("list.status")}</th>
              <th>{t("list.published")}</th>
              <th title={t("list.runsHint")}>{t("list.runs")}</th>
              <th>{t("list.updated")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {flows.map((flow) => (
              <tr key={flow.id} data-testid="flow-row">
                <td>
                  <Link to={`/flows/${flow.id}`}>{flow.name}</Link>
                  {flow.description && <div className="muted small">{flow.description}</div>}
                </td>
                <td>
                  <span className={`pill status-${flow.status}`}>{t(`status.${flow.status}`)}</span>
                </td>
                <td>
                  {flow.published_revision ? (
                    <>
                      #{flow.published_revision}
                      <div className="muted small">{formatDateTime(language, flow.published_at)}</div>
                    </>
                  ) : (
                    <span className="muted">{t("list.neverPublished")}</span>
                  )}
                </td>
                <td className="run-counts">
                  <span title={t("runs.active")}>▶ {flow.run_counts.active}</span> <span title={t("runs.waiting")}>‖ {flow.run_counts.waiting}</span>{" "}
                  <span title={t("runs.completed")}>✓ {flow.run_counts.completed}</span> <span title={t("runs.failed")}>✗ {flow.run_counts.failed}</span>
                </td>
                <td className="small">{formatDateTime(language, flow.updated_at)}</td>
                <td className="row-actions">
                  <button type="button" className="link" onClick={() => act(async () => download(`${slug(flow.name)}.fluxo.json`, await endpoints.exportFlow(flow.id)))}>
                    {t("list.export")}
                  </button>
                  {canEdit && (
                    <>
                      <button type="button" className="link" data-testid="list-test-run" onClick={() => navigate(`/flows/${flow.id}?test`)}>
                        {t("test.button")}
                      </button>
                      <button type="button" className="link" onClick={() => act(() => endpoints.duplicate(flow.id))}>
                        {t("list.duplicate")}
                      </button>
                      {flow.status === "archived" ? (
                        <button type="button" className="link" onClick={() => act(() => endpoints.unarchive(flow.id))}>
                          {t("list.unarchive")}
                        </button>
                      ) : (
                        <button type="button" className="link" onClick={() => act(() => endpoints.archive(flow.id))}>
                          {t("list.archive")}
                        </button>
                      )}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
