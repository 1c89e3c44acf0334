// The counsellor's side of a chat: the transcript as it grows, and replies, over a WebSocket.
"use strict";
(function () {
  const T = window.Tsunagu;
  const log = document.getElementById("chat-log");
  const status = document.getElementById("chat-status");
  const compose = document.getElementById("chat-compose");
  const text = document.getElementById("chat-text");
  const errorEl = document.getElementById("chat-error");
  const answer = document.getElementById("room-consent-answer");
  const decision = document.getElementById("room-consent-decision");
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
        const left = data.state === "closed" && data.closed_reason === "user_left";
        status.textContent = left ? T.t("chat.js.person_left") : T.t("chat.js.state_" + data.state);
        if (data.consent) {
          // The person's tap shows at once, in the counsellor's language.
          answer.hidden = false;
          decision.textContent = T.t("chat.js.consent_" + data.consent);
        }
        if (data.state === "closed") {
          // A closed chat cannot be typed into; the person may have left while the page was open.
          text.disabled = true;
          compose.querySelector("button").disabled = true;
        }
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
  connect();
})();
