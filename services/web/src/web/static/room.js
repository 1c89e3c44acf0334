// The counsellor's side of a chat: the transcript as it grows, and replies, over a WebSocket.
"use strict";
(function () {
  const T = window.Tsunagu;
  const log = document.getElementById("chat-log");
  const status = document.getElementById("chat-status");
  const compose = document.getElementById("chat-compose");
  const text = document.getElementById("chat-text");
  const errorEl = document.getElementById("chat-error");
  let socket = null;

  function add(kind, body, who) {
    const li = document.createElement("li");
    li.className = "msg msg-" + kind;
    const w = document.createElement("span");
    w.className = "who";
    w.textContent = who;
    li.appendChild(w);
    li.appendChild(document.createTextNode(body));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + log.dataset.socket);
    // Each connection replays the whole transcript: start from an empty list.
    socket.addEventListener("open", () => { log.innerHTML = ""; errorEl.hidden = true; });
    socket.addEventListener("message", (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "message") {
        const mine = data.sender === "counsellor";
        const who = mine ? T.t("chat.js.counsellor") : data.sender === "bot" ? T.t("chat.js.bot") : T.t("chat.js.person");
        add(mine ? "me" : data.sender === "bot" ? "system" : "them", data.text || "", who);
      } else if (data.type === "state") {
        status.textContent = T.t("chat.js.state_" + data.state);
      } else if (data.type === "error") {
        errorEl.hidden = false;
        errorEl.textContent = T.t("chat.js.error");
      }
    });
    socket.addEventListener("close", () => setTimeout(connect, 3000));
  }

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
  connect();
})();
