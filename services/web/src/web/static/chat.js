// The person's web chat: pick a language and a topic, then talk over a WebSocket. The chat id and
// its key are kept in sessionStorage only, so a reload continues the same chat and closing the tab
// forgets it.
"use strict";
(function () {
  const T = window.Tsunagu;
  const start = document.getElementById("chat-start");
  const room = document.getElementById("chat-room");
  const log = document.getElementById("chat-log");
  const status = document.getElementById("chat-status");
  const wait = document.getElementById("chat-wait");
  const compose = document.getElementById("chat-compose");
  const text = document.getElementById("chat-text");
  const leave = document.getElementById("chat-leave");
  const crisis = document.getElementById("chat-crisis");
  const consent = document.getElementById("chat-consent");
  const consentText = document.getElementById("chat-consent-text");
  const errorEl = document.getElementById("chat-error");
  const chatLang = start.dataset.chatLanguage || document.documentElement.lang || "ja";
  const pageTitle = document.title;
  let socket = null;
  let closed = false;
  let lastState = null;
  let question = null;
  let audio = null;  // made on the person's tap, so the browser lets it sound later

  function add(kind, body, who) {
    const li = document.createElement("li");
    li.className = "msg msg-" + kind;
    if (who) {
      const w = document.createElement("span");
      w.className = "who";
      w.textContent = who;
      li.appendChild(w);
    }
    const words = document.createElement("span");
    // The bot speaks the chat's language; screen readers read it in that language.
    if (kind === "system") words.lang = chatLang === "tl" ? "fil" : chatLang;
    words.textContent = body;
    li.appendChild(words);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function showRoom() {
    start.hidden = true;
    room.hidden = false;
    text.focus();
  }

  function end() {
    // A closed chat cannot be typed into.
    closed = true;
    sessionStorage.removeItem("tsunagu-chat");
    text.disabled = true;
    compose.querySelector("button").disabled = true;
    leave.disabled = true;
    consent.hidden = true;
    document.title = pageTitle;
  }

  function joined() {
    // Tell a person who switched apps: the title, and a vibration where the phone allows it.
    document.title = T.t("chat.js.title_joined");
    if (navigator.vibrate) { try { navigator.vibrate([200, 100, 200]); } catch (e) { /* not allowed */ } }
    if (audio) {
      try {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        gain.gain.value = 0.08;
        tone.frequency.value = 660;
        tone.connect(gain).connect(audio.destination);
        tone.start();
        tone.stop(audio.currentTime + 0.25);
      } catch (e) { /* no sound where it is not allowed */ }
    }
  }

  function showQuestion(q) {
    if (!q || closed) { consent.hidden = true; question = null; return; }
    if (question && question.id === q.id) return;
    question = q;
    consentText.textContent = "";
    q.lines.forEach((line) => {
      const p = document.createElement("p");
      p.lang = chatLang === "tl" ? "fil" : chatLang;
      p.textContent = line;
      consentText.appendChild(p);
    });
    consent.querySelector('[data-consent="given"]').textContent = q.agree;
    consent.querySelector('[data-consent="refused"]').textContent = q.disagree;
    consent.hidden = false;
  }

  function showState(data) {
    if (data.state === "waiting") {
      const ahead = Math.max(0, (data.position || 1) - 1);
      status.textContent = ahead === 0 ? T.t("chat.js.position_next") : T.t("chat.js.position", { position: ahead });
      wait.textContent = data.wait_minutes ? T.t("chat.js.wait", { minutes: data.wait_minutes }) : T.t("chat.js.wait_unknown");
    } else {
      wait.textContent = "";
    }
    if (data.state === "active") {
      status.textContent = T.t("chat.js.connected");
      if (lastState === "waiting") joined();
    } else if (data.state === "closed") {
      status.textContent = data.closed_reason === "user_left" ? T.t("chat.js.left") : T.t("chat.js.closed");
      end();
    }
    if (data.acute_risk) crisis.hidden = false;
    showQuestion(data.consent_question);
    lastState = data.state;
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
        showState(data);
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

  function sendJson(message) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); return true; }
    return false;
  }

  document.querySelectorAll("[data-topic]").forEach((button) => {
    button.addEventListener("click", () => {
      document.querySelectorAll("[data-topic]").forEach((b) => { b.disabled = true; });
      const Context = window.AudioContext || window.webkitAudioContext;
      if (Context && !audio) { try { audio = new Context(); } catch (e) { audio = null; } }
      connect({ type: "start", topic: button.dataset.topic, language: chatLang });
    });
  });

  consent.querySelectorAll("[data-consent]").forEach((button) => {
    button.addEventListener("click", () => {
      if (!question) return;
      if (sendJson({ type: "consent", request: question.id, decision: button.dataset.consent })) {
        consent.hidden = true;
        text.focus();
      }
    });
  });

  compose.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (closed || !value) return;
    if (sendJson({ type: "send", text: value })) {
      text.value = "";
      text.focus();
    }
  });

  leave.addEventListener("click", () => { sendJson({ type: "leave" }); });

  const saved = sessionStorage.getItem("tsunagu-chat");
  if (saved) connect(Object.assign({ type: "resume" }, JSON.parse(saved)));
})();
