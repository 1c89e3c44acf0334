// The person's web chat: pick a topic, then talk over a WebSocket. The chat id and its key are
// kept in sessionStorage only, so a reload continues the same chat and closing the tab forgets it.
"use strict";
(function () {
  const T = window.Tsunagu;
  const start = document.getElementById("chat-start");
  const room = document.getElementById("chat-room");
  const log = document.getElementById("chat-log");
  const status = document.getElementById("chat-status");
  const compose = document.getElementById("chat-compose");
  const text = document.getElementById("chat-text");
  const errorEl = document.getElementById("chat-error");
  const lang = document.documentElement.lang || "ja";
  let socket = null;
  let closed = false;

  function add(kind, body, who) {
    const li = document.createElement("li");
    li.className = "msg msg-" + kind;
    if (who) {
      const w = document.createElement("span");
      w.className = "who";
      w.textContent = who;
      li.appendChild(w);
    }
    li.appendChild(document.createTextNode(body));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function showRoom() {
    start.hidden = true;
    room.hidden = false;
    text.focus();
  }

  function connect(first) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/chat/ws");
    socket.addEventListener("open", () => {
      log.innerHTML = "";  // each connection replays the whole transcript
      socket.send(JSON.stringify(first));
    });
    socket.addEventListener("message", (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "started") {
        sessionStorage.setItem("tsunagu-chat", JSON.stringify({ chat_id: data.chat_id, key: data.key }));
        showRoom();
      } else if (data.type === "resumed") {
        showRoom();
      } else if (data.type === "state") {
        if (data.state === "waiting") {
          status.textContent = data.position ? T.t("chat.js.position", { position: data.position }) : T.t("chat.js.waiting");
        } else if (data.state === "active") {
          status.textContent = T.t("chat.js.connected");
        } else if (data.state === "closed") {
          status.textContent = T.t("chat.js.closed");
          closed = true;
          sessionStorage.removeItem("tsunagu-chat");
          compose.querySelector("button").disabled = true;
        }
      } else if (data.type === "message") {
        const mine = data.sender === "user" || data.sender === "person";
        const who = mine ? T.t("chat.js.me") : data.sender === "counsellor" ? T.t("chat.js.counsellor") : "";
        add(mine ? "me" : data.sender === "counsellor" ? "them" : "system", data.text || "", who);
      } else if (data.type === "error") {
        if (data.code === "unknown_chat") { sessionStorage.removeItem("tsunagu-chat"); start.hidden = false; room.hidden = true; return; }
        errorEl.hidden = false;
        errorEl.textContent = T.t("chat.js.error");
      }
    });
    socket.addEventListener("close", () => {
      if (closed) return;
      const saved = sessionStorage.getItem("tsunagu-chat");
      if (saved) setTimeout(() => connect(Object.assign({ type: "resume" }, JSON.parse(saved))), 2000);
    });
  }

  document.querySelectorAll("[data-topic]").forEach((button) => {
    button.addEventListener("click", () => {
      document.querySelectorAll("[data-topic]").forEach((b) => { b.disabled = true; });
      connect({ type: "start", topic: button.dataset.topic, language: lang });
    });
  });

  compose.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "send", text: value }));
    text.value = "";
    text.focus();
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); compose.requestSubmit(); }
  });

  document.getElementById("chat-leave").addEventListener("click", () => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "leave" }));
  });

  const saved = sessionStorage.getItem("tsunagu-chat");
  if (saved) connect(Object.assign({ type: "resume" }, JSON.parse(saved)));
})();
