// The simulated WhatsApp chat of a test run: bubbles in WhatsApp Cloud API shapes, reply buttons
// to tap, list rows to pick, and a box to type as the customer.
import { useState } from "react";
import type { ChatMedia, ChatMessage } from "../api/types";
import { useT } from "../i18n";

export type Reply = { text: string } | { reply_id: string; reply_title: string; reply_kind?: "button" | "list" | "quick_reply" };

interface Interactive {
  type: "button" | "list";
  body?: { text?: string };
  header?: { text?: string };
  footer?: { text?: string };
  action?: {
    buttons?: { reply: { id: string; title: string } }[];
    button?: string;
    sections?: { title?: string; rows: { id: string; title: string; description?: string }[] }[];
  };
}

interface TemplateContent {
  name?: string;
  components?: { type: string; parameters?: { text?: string }[] }[];
}

function templateText(content: Record<string, unknown>): string {
  if (typeof content.rendered_text === "string" && content.rendered_text) return content.rendered_text;
  const template = (content.template ?? {}) as TemplateContent;
  const params = (template.components ?? []).flatMap((component) => (component.parameters ?? []).map((p) => p.text ?? ""));
  return `[${template.name ?? "template"}] ${params.join(" · ")}`;
}

export function messageText(message: ChatMessage): string {
  const content = message.content ?? {};
  if (message.media) return message.media.caption ?? "";
  const location = content.location as { name?: string; address?: string; latitude?: number; longitude?: number } | undefined;
  if (location) return `◎ ${[location.name, location.address].filter(Boolean).join(" — ") || `${location.latitude}, ${location.longitude}`}`;
  const reaction = content.reaction as { emoji?: string } | undefined;
  if (reaction?.emoji) return reaction.emoji;
  if (message.kind === "template" || content.template) return templateText(content);
  const text = (content.text as { body?: string } | string | undefined) ?? undefined;
  if (typeof text === "string") return text;
  if (text?.body) return text.body;
  const interactive = content.interactive as Interactive | undefined;
  if (interactive?.body?.text) return interactive.body.text;
  // An inbound tap, in the Cloud API's shape (what production and the test run store).
  const tapped = content.interactive as { button_reply?: { title?: string }; list_reply?: { title?: string } } | undefined;
  const button = content.button as { text?: string } | undefined;
  const reply = (content.reply_title ?? tapped?.button_reply?.title ?? tapped?.list_reply?.title ?? button?.text) as string | undefined;
  return reply ?? JSON.stringify(content);
}

/** A file in a bubble: images shown, audio and video playable, documents listed by name. */
export function MediaView({ media }: { media: ChatMedia }) {
  const { t } = useT();
  if (!media.url && media.status === "pending") return <small className="muted">{t("test.mediaPending")}</small>;
  if (!media.url) return <small className="muted">{t("test.mediaMissing")}</small>;
  if (media.type === "image" || media.type === "sticker") return <img className="chat-media" src={media.url} alt={media.caption || media.filename || media.type} data-testid="chat-image" />;
  if (media.type === "video") return <video className="chat-media" src={media.url} controls preload="metadata" data-testid="chat-video" />;
  if (media.type === "audio") return <audio src={media.url} controls preload="metadata" data-testid="chat-audio" />;
  return (
    <a className="chat-document" href={media.url} target="_blank" rel="noopener noreferrer" data-testid="chat-document">
      ▤ {media.filename || t("test.document")}
    </a>
  );
}

function InteractiveActions({ interactive, onReply, disabled }: { interactive: Interactive; onReply: (reply: Reply) => void; disabled: boolean }) {
  const [listOpen, setListOpen] = useState(false);
  if (interactive.type === "button") {
    return (
      <div className="reply-buttons">
        {(interactive.action?.buttons ?? []).map(({ reply }) => (
          <button
            type="button"
            key={reply.id}
            disabled={disabled}
            data-testid={`reply-${reply.id}`}
            onClick={() => onReply({ reply_id: reply.id, reply_title: reply.title, reply_kind: "button" })}
          >
            {reply.title}
          </button>
        ))}
      </div>
    );
  }
  return (
    <div className="reply-list">
      <button type="button" disabled={disabled} data-testid="open-list" onClick={() => setListOpen((open) => !open)}>
        ☰ {interactive.action?.button ?? "…"}
      </button>
      {listOpen &&
        (interactive.action?.sections ?? []).map((section, index) => (
          <div key={index} className="list-section">
            {section.title && <strong>{section.title}</strong>}
            {section.rows.map((row) => (
              <button
                type="button"
                key={row.id}
                className="list-row"
                data-testid={`row-${row.id}`}
                disabled={disabled}
                onClick={() => {
                  setListOpen(false);
                  onReply({ reply_id: row.id, reply_title: row.title, reply_kind: "list" });
                }}
              >
                {row.title}
                {row.description && <small>{row.description}</small>}
              </button>
            ))}
          </div>
        ))}
    </div>
  );
}

export function Chat({ messages, onSend, onSendFile, disabled }: {
  messages: ChatMessage[];
  onSend: (reply: Reply) => void;
  onSendFile?: (file: File, caption: string) => void;
  disabled: boolean;
}) {
  const { t, tOptional } = useT();
  const [text, setText] = useState("");
  return (
    <div className="chat" data-testid="chat">
      <div className="chat-log">
        {messages.length === 0 && <p className="muted small">{t("test.chatEmpty")}</p>}
        {messages.map((message) => {
          const interactive = message.content?.interactive as Interactive | undefined;
          return (
            <div key={message.id} className={`bubble ${message.direction}`} data-testid={`bubble-${message.direction}`} data-kind={message.kind}>
              {interactive?.header?.text && <strong>{interactive.header.text}</strong>}
              {message.media && <MediaView media={message.media} />}
              {messageText(message) && <p>{messageText(message)}</p>}
              {interactive?.footer?.text && <small className="muted">{interactive.footer.text}</small>}
              {message.direction === "out" && interactive?.type && <InteractiveActions interactive={interactive} onReply={onSend} disabled={disabled} />}
              <small className="muted">{tOptional(`msgStatus.${message.status}`) ?? message.status}</small>
            </div>
          );
        })}
      </div>
      <form
        className="chat-input"
        onSubmit={(event) => {
          event.preventDefault();
          if (!text.trim()) return;
          onSend({ text: text.trim() });
          setText("");
        }}
      >
        {onSendFile && (
          <label className="chat-attach" title={t("test.attach")}>
            ⊕
            <input
              type="file"
              hidden
              data-testid="chat-file"
              disabled={disabled}
              accept="image/jpeg,image/png,application/pdf,.doc,.docx,.xls,.xlsx,.txt"
              aria-label={t("test.attach")}
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) onSendFile(file, text.trim());
                setText("");
                event.target.value = "";
              }}
            />
          </label>
        )}
        <input data-testid="chat-input" value={text} disabled={disabled} placeholder={t("test.typeMessage")} onChange={(event) => setText(event.target.value)} />
        <button type="submit" data-testid="chat-send" disabled={disabled || !text.trim()}>
          {t("test.send")}
        </button>
      </form>
    </div>
  );
}
