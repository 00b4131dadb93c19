// Sandbox phone: shows the chat of the chosen contact live (websocket, or polling as a fallback) and sends what the person types or taps.
(function () {
  "use strict";
  const root = document.querySelector(".sandbox");
  const chat = document.getElementById("chat");
  const composer = document.getElementById("composer");
  const title = document.getElementById("chat-title");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  let contactId = null;
  let lastId = 0;
  let timer = null;
  let socket = null;

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then((r) => r.json().then((data) => ({ ok: r.ok, data })));
  }

  // Texts in the page's language (the server renders them with the template).
  const strings = JSON.parse(document.getElementById("sandbox-strings").textContent || "{}");
  const say = (key, fallback) => strings[key] || fallback;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A file in a bubble: images shown, audio and video playable, documents listed by name.
  function media(m) {
    const box = el("div", "media media-" + m.type);
    if (!m.url && m.status === "pending") { box.appendChild(el("span", "meta", say("mediaPending", "fetching the file…"))); return box; }
    if (!m.url) { box.appendChild(el("span", "error", say("mediaMissing", "file not available"))); return box; }
    if (m.type === "image" || m.type === "sticker") {
      const img = el("img");
      img.src = m.url;
      img.alt = m.caption || m.filename || m.type;
      box.appendChild(img);
    } else if (m.type === "audio" || m.type === "video") {
      const player = el(m.type);
      player.src = m.url;
      player.controls = true;
      player.preload = "metadata";
      box.appendChild(player);
    } else {
      const link = el("a", "document", "▤ " + (m.filename || say("document", "document")));
      link.href = m.url;
      link.target = "_blank";
      link.rel = "noopener";
      box.appendChild(link);
    }
    return box;
  }

  function reply(kind, id, title, wamid) {
    post(root.dataset.sendUrl, { contact: contactId, reply_kind: kind, reply_id: id, reply_title: title,
                                 context: wamid || "" }).then(refresh);
  }

  function render(m) {
    const li = el("li", "bubble " + (m.direction === "out" ? "out" : "in"));
    li.dataset.id = m.id;
    if (m.direction === "out" && ["preparing", "queued", "sending"].includes(m.status)) li.dataset.pending = "1";
    if (m.header) li.appendChild(el("span", "head", m.header));
    if (m.media) li.appendChild(media(m.media));
    if (m.location) {
      const pin = el("a", "location", "◎ " + (m.text || m.location.latitude + ", " + m.location.longitude));
      pin.href = "https://www.openstreetmap.org/?mlat=" + m.location.latitude + "&mlon=" + m.location.longitude;
      pin.target = "_blank";
      pin.rel = "noopener";
      li.appendChild(pin);
    }
    if (!m.location) li.appendChild(el("span", "text", m.text || (m.template && !m.media ? "[" + say("template", "template") + " " + m.template + "]" : "")));
    if (m.footer) li.appendChild(el("span", "foot", m.footer));
    const choices = el("div", "choices");
    (m.buttons || []).forEach((b) => {
      const button = el("button", "", b.title);
      button.type = "button";
      button.addEventListener("click", () => reply(m.kind === "template" ? "quick_reply" : "button", b.id, b.title, m.wamid));
      choices.appendChild(button);
    });
    if (m.list) {
      (m.list.sections || []).forEach((section) => {
        if (section.title) choices.appendChild(el("span", "section", section.title));
        (section.rows || []).forEach((row) => {
          const button = el("button", "row", row.title);
          button.type = "button";
          if (row.description) button.appendChild(el("small", "", row.description));
          button.addEventListener("click", () => reply("list", row.id, row.title, m.wamid));
          choices.appendChild(button);
        });
      });
    }
    if (choices.childNodes.length) li.appendChild(choices);
    if (m.error) li.appendChild(el("span", "error", m.error));
    li.appendChild(el("span", "meta", new Date(m.at).toLocaleTimeString(document.documentElement.lang || undefined) + (m.direction === "out" ? " · " + say("status." + m.status, m.status) : "")));
    return li;
  }

  function refresh() {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "sync" }));
    else poll();
  }

  function poll() {
    if (!contactId) return;
    // Re-read from the oldest message still on its way, so its status (queued → delivered) updates.
    const pending = Array.from(chat.querySelectorAll("[data-pending]")).map((li) => Number(li.dataset.id));
    const after = pending.length ? Math.min(...pending) - 1 : lastId;
    const url = root.dataset.messagesUrl + "?contact=" + contactId + "&after=" + after;
    fetch(url, { credentials: "same-origin" }).then((r) => r.json()).then((data) => show(data.messages))
      .catch(() => {});
  }

  function show(messages) {
    (messages || []).forEach((m) => {
      const existing = chat.querySelector('[data-id="' + m.id + '"]');
      if (existing) existing.replaceWith(render(m)); else chat.appendChild(render(m));
      lastId = Math.max(lastId, m.id);
    });
    if ((messages || []).length) chat.scrollTop = chat.scrollHeight;
  }

  // Live updates over a websocket; HTTP polling when it cannot open (or closes).
  function live() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const wanted = contactId;
    try {
      socket = new WebSocket(scheme + location.host + "/ws/sandbox/" + wanted + "/");
    } catch (e) {
      socket = null;
    }
    if (!socket) { timer = setInterval(poll, 1000); return; }
    socket.onmessage = (e) => {
      const data = JSON.parse(e.data);
      if (data.type === "messages" && wanted === contactId) show(data.messages);
    };
    socket.onclose = () => {
      if (wanted === contactId && !timer) { timer = setInterval(poll, 1000); }
    };
  }

  function open(button) {
    document.querySelectorAll(".contact").forEach((b) => b.classList.toggle("active", b === button));
    contactId = button.dataset.id;
    lastId = 0;
    chat.textContent = "";
    title.textContent = button.querySelector("strong").textContent;
    composer.hidden = false;
    clearInterval(timer);
    timer = null;
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    live();
  }

  document.getElementById("contact-list").addEventListener("click", (e) => {
    const button = e.target.closest(".contact");
    if (button) open(button);
  });

  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = composer.elements.text;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    post(root.dataset.sendUrl, { contact: contactId, text }).then(refresh);
  });

  // Send a photo or a document as the customer: stored at once, then through the inbound path.
  const attach = document.getElementById("attach");
  if (attach) attach.addEventListener("change", () => {
    const file = attach.files && attach.files[0];
    if (!file || !contactId) return;
    const form = new FormData();
    form.append("contact", contactId);
    form.append("file", file);
    form.append("caption", composer.elements.text.value.trim());
    composer.elements.text.value = "";
    fetch(root.dataset.uploadUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf }, body: form })
      .then((r) => r.json().then((data) => ({ ok: r.ok, data })))
      .then(({ ok, data }) => {
        attach.value = "";
        if (!ok) { alert(data.error || say("uploadFailed", "could not send the file")); return; }
        refresh();
      });
  });

  document.getElementById("new-contact").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.target;
    post(root.dataset.contactsUrl, { name: form.elements.name.value, phone: form.elements.phone.value })
      .then(({ ok, data }) => {
        if (!ok) { alert(data.error || say("addFailed", "could not add the contact")); return; }
        const li = el("li");
        const button = el("button", "contact");
        button.type = "button";
        button.dataset.id = data.id;
        button.appendChild(el("strong", "", data.name || data.phone));
        button.appendChild(el("span", "", data.phone));
        li.appendChild(button);
        document.getElementById("contact-list").appendChild(li);
        form.reset();
        open(button);
      });
  });

  const first = document.querySelector(".contact");
  if (first) open(first);
})();
