// The media library: files flows send (send_media, template header media). Upload with WhatsApp's
// size and type checks (the server's answer is shown as is), preview, download, rename, delete, and
// the flows that use each file.
import { useRef, useState } from "react";
import { ws, type MediaFile } from "../../api/workspace";
import { formatDateTime, useT, type MessageKey } from "../../i18n";
import type { PageProps } from "../../routes";
import { ErrorNote, PageHeader, Pill, can, errorText, useLoad } from "../ui";

const KINDS = ["image", "document", "audio", "video", "sticker"] as const;

export function formatSize(size: number | null | undefined): string {
  if (size == null) return "—";
  if (size >= 1024 * 1024) return `${(size / (1024 * 1024)).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(size / 1024))} KB`;
}

export function MediaPreview({ file }: { file: Pick<MediaFile, "kind" | "preview_url" | "name" | "filename"> }) {
  if (file.kind === "image" || file.kind === "sticker") return <img className="media-thumb" src={file.preview_url} alt={file.name} loading="lazy" />;
  if (file.kind === "video") return <video className="media-thumb" src={file.preview_url} controls preload="metadata" />;
  if (file.kind === "audio") return <audio src={file.preview_url} controls preload="none" />;
  return <div className="media-doc">▤ {file.filename || file.name}</div>;
}

export function MediaPage({ user }: PageProps) {
  const { t, language } = useT();
  const [kind, setKind] = useState("");
  const [q, setQ] = useState("");
  const { data: files, error, reload } = useLoad(() => ws.media({ kind: kind || undefined, q: q || undefined }), [kind, q]);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [usage, setUsage] = useState<Record<number, MediaFile["used_in"]>>({});
  const input = useRef<HTMLInputElement>(null);
  const editor = can(user.roles, "editor");

  const upload = async (list: FileList | null) => {
    if (!list?.length) return;
    setBusy(true);
    setFailure(null);
    try {
      for (const file of Array.from(list)) await ws.uploadMedia(file);
      await reload();
    } catch (problem) {
      setFailure(errorText(problem));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = "";
    }
  };
  const rename = async (file: MediaFile) => {
    const name = window.prompt(t("ws.media.renamePrompt"), file.name);
    if (!name || name === file.name) return;
    try {
      await ws.renameMedia(file.id, name);
      await reload();
    } catch (problem) {
      setFailure(errorText(problem));
    }
  };
  const remove = async (file: MediaFile) => {
    if (!window.confirm(t("ws.media.confirmDelete", { name: file.name }))) return;
    try {
      await ws.deleteMedia(file.id);
    } catch (problem) {
      const used = (problem as { body?: { details?: { used_in?: MediaFile["used_in"] } } }).body?.details?.used_in;
      if (!used || !window.confirm(t("ws.media.confirmInUse", { flows: used.map((u) => u.name).join(", ") }))) {
        setFailure(errorText(problem));
        return;
      }
      await ws.deleteMedia(file.id, true);
    }
    await reload();
  };
  const showUsage = async (file: MediaFile) => {
    const detail = await ws.mediaFile(file.id);
    setUsage((current) => ({ ...current, [file.id]: detail.used_in ?? [] }));
  };

  return (
    <div className="page" data-testid="media-page">
      <PageHeader title={t("nav.media")} subtitle={t("ws.media.subtitle")}>
        {editor && (
          <label className="button primary" data-testid="media-upload-label">
            ⤒ {busy ? t("common.working") : t("ws.media.upload")}
            <input ref={input} type="file" multiple hidden data-testid="media-upload" onChange={(event) => upload(event.target.files)}
              accept="image/jpeg,image/png,image/webp,audio/*,video/mp4,video/3gpp,application/pdf,text/plain,.doc,.docx,.xls,.xlsx,.ppt,.pptx" />
          </label>
        )}
      </PageHeader>
      <p className="muted small">{t("ws.media.limits")}</p>
      <ErrorNote error={failure ?? error} />
      <div className="filters">
        <input type="search" placeholder={t("ws.media.search")} value={q} onChange={(event) => setQ(event.target.value)} data-testid="media-search" />
        <select aria-label={t("ws.media.kind")} value={kind} onChange={(event) => setKind(event.target.value)} data-testid="media-kind">
          <option value="">{t("ws.media.allKinds")}</option>
          {KINDS.map((value) => (
            <option key={value} value={value}>
              {t(`ws.mediaKind.${value}` as MessageKey)}
            </option>
          ))}
        </select>
      </div>
      {files === null ? (
        <p className="muted">{t("common.loading")}</p>
      ) : files.length === 0 ? (
        <div className="empty-state">{t("ws.media.empty")}</div>
      ) : (
        <div className="template-grid">
          {files.map((file) => (
            <article className="card media-card" key={file.id} data-testid="media-card">
              <header>
                <strong title={file.filename}>{file.name}</strong>
                <Pill tone="info">{t(`ws.mediaKind.${file.kind}` as MessageKey)}</Pill>
              </header>
              <MediaPreview file={file} />
              <p className="muted small">
                {file.mime_type} · {formatSize(file.size)} · {formatDateTime(language, file.created_at)}
              </p>
              <div className="row-actions">
                <a href={file.download_url} data-testid="media-download">{t("ws.media.download")}</a>
                <button type="button" className="link" onClick={() => showUsage(file)} data-testid="media-usage">{t("ws.media.usedIn")}</button>
                {editor && <button type="button" className="link" onClick={() => rename(file)} data-testid="media-rename">{t("ws.media.rename")}</button>}
                {editor && <button type="button" className="link danger" onClick={() => remove(file)} data-testid="media-delete">{t("ws.media.delete")}</button>}
              </div>
              {usage[file.id] && (
                <p className="small" data-testid="media-usage-list">
                  {usage[file.id]!.length === 0
                    ? t("ws.media.unused")
                    : usage[file.id]!.map((u) => (
                        <a key={u.flow} href={`/flows/${u.flow}`}>
                          {u.name}
                          {u.published ? "" : ` (${t("ws.media.draftOnly")})`}
                        </a>
                      ))}
                </p>
              )}
            </article>
          ))}
        </div>
      )}
    </div>
  );
}
