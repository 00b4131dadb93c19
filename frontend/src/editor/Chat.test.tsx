import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { ChatMessage } from "../api/types";
import { Chat, messageText } from "./Chat";

const out = (id: number, content: Record<string, unknown>, kind = "interactive"): ChatMessage => ({
  id,
  direction: "out",
  kind,
  content,
  status: "sent",
  created_at: "",
});

describe("test-run chat", () => {
  it("lets the customer tap a reply button", () => {
    const onSend = vi.fn();
    const message = out(1, {
      interactive: {
        type: "button",
        body: { text: "Podemos ligar amanhã?" },
        action: { buttons: [{ type: "reply", reply: { id: "yes", title: "Sim" } }, { type: "reply", reply: { id: "no", title: "Não" } }] },
      },
    });
    render(<Chat messages={[message]} onSend={onSend} disabled={false} />);
    expect(screen.getByText("Podemos ligar amanhã?")).toBeTruthy();
    fireEvent.click(screen.getByTestId("reply-no"));
    expect(onSend).toHaveBeenCalledWith({ reply_id: "no", reply_title: "Não", reply_kind: "button" });
  });

  it("opens a list and picks a row", () => {
    const onSend = vi.fn();
    const message = out(2, {
      interactive: {
        type: "list",
        body: { text: "Escolha um horário" },
        action: { button: "Horários", sections: [{ title: "Manhã", rows: [{ id: "h9", title: "9h", description: "cedo" }] }] },
      },
    });
    render(<Chat messages={[message]} onSend={onSend} disabled={false} />);
    expect(screen.queryByTestId("row-h9")).toBeNull();
    fireEvent.click(screen.getByTestId("open-list"));
    fireEvent.click(screen.getByTestId("row-h9"));
    expect(onSend).toHaveBeenCalledWith({ reply_id: "h9", reply_title: "9h", reply_kind: "list" });
  });

  it("sends typed text and shows template messages by their rendered text", () => {
    const onSend = vi.fn();
    const template = out(3, { template: { name: "retorno", language: { code: "pt_BR" }, components: [] }, rendered_text: "Olá Maria" }, "template");
    render(<Chat messages={[template]} onSend={onSend} disabled={false} />);
    expect(screen.getByText("Olá Maria")).toBeTruthy();
    fireEvent.change(screen.getByTestId("chat-input"), { target: { value: "  oi  " } });
    fireEvent.click(screen.getByTestId("chat-send"));
    expect(onSend).toHaveBeenCalledWith({ text: "oi" });
  });

  it("falls back to the template's parameters when there is no rendered text", () => {
    const template = out(4, { template: { name: "retorno", components: [{ type: "body", parameters: [{ type: "text", text: "Maria" }] }] } }, "template");
    expect(messageText(template)).toBe("[retorno] Maria");
    expect(messageText({ ...template, kind: "text", content: { text: { body: "oi" } } })).toBe("oi");
  });

  it("shows images, lists documents by name and sends a file as the customer", () => {
    const onSendFile = vi.fn();
    const photo: ChatMessage = { ...out(5, {}, "image"), direction: "in", media: { type: "image", url: "/files/f/a/", caption: "minha conta" } };
    const invoice: ChatMessage = { ...out(6, {}, "document"), media: { type: "document", url: "/files/f/b/", filename: "fatura.pdf", caption: "Sua fatura" } };
    render(<Chat messages={[photo, invoice]} onSend={vi.fn()} onSendFile={onSendFile} disabled={false} />);
    expect(screen.getByTestId("chat-image").getAttribute("src")).toBe("/files/f/a/");
    expect(screen.getByText("minha conta")).toBeTruthy();
    expect(screen.getByTestId("chat-document").textContent).toContain("fatura.pdf");
    expect(screen.getByTestId("chat-document").getAttribute("href")).toBe("/files/f/b/");
    fireEvent.change(screen.getByTestId("chat-input"), { target: { value: "segue" } });
    const file = new File(["%PDF-1.4"], "comprovante.pdf", { type: "application/pdf" });
    fireEvent.change(screen.getByTestId("chat-file"), { target: { files: [file] } });
    expect(onSendFile).toHaveBeenCalledWith(file, "segue");
  });

  it("draws a location and a reaction", () => {
    expect(messageText(out(7, { location: { latitude: -23.5, longitude: -46.6, name: "Loja" } }, "location"))).toBe("◎ Loja");
    expect(messageText(out(8, { reaction: { message_id: "w", emoji: "👍" } }, "reaction"))).toBe("👍");
  });
});
