// Shared by every page: messages from the catalogue, CSRF-protected fetch, deadline countdowns.
"use strict";
(function () {
  const dataEl = document.getElementById("i18n");
  const messages = dataEl ? JSON.parse(dataEl.textContent || "{}") : {};
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function t(key, values) {
    let text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    if (values) {
      for (const [name, value] of Object.entries(values)) text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  // <time data-countdown datetime="…">: minutes and seconds left, or how late, updated each second.
  function tickCountdowns() {
    const now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach((el) => {
      const due = Date.parse(el.getAttribute("datetime"));
      if (Number.isNaN(due)) return;
      const left = Math.round((due - now) / 1000);
      const abs = Math.abs(left);
      const h = Math.floor(abs / 3600), m = Math.floor((abs % 3600) / 60), s = abs % 60;
      const span = (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
      el.textContent = left >= 0 ? t("js.left", { time: span }) : t("js.overdue", { time: span });
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("due-soon", left >= 0 && left < 300);
    });
  }
  setInterval(tickCountdowns, 1000);
  document.addEventListener("DOMContentLoaded", tickCountdowns);

  // <form data-draft="key">: what is typed is kept in this tab as it is typed, so neither a
  // reload nor a session that expired before sending loses it; the form comes back with it after
  // signing in again. sessionStorage, not localStorage: a draft holds a person's name, phone and
  // story, and must not outlive the tab on a shared counsellor's computer. The draft is dropped
  // once the server confirms the form was recorded (a page with data-draft-done), on signing out,
  // when the tab closes, and after DRAFT_TTL_MS.
  const DRAFT_PREFIX = "tsunagu.draft.";
  const DRAFT_TTL_MS = 12 * 3600 * 1000;
  const SKIPPED = new Set(["csrf_token"]);

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function draftOf(form) {
    const fields = {};
    for (const el of form.elements) {
      if (!el.name || SKIPPED.has(el.name) || el.type === "password" || el.type === "file" || el.disabled) continue;
      if ((el.type === "checkbox" || el.type === "radio")) {
        if (el.checked) (fields[el.name] = fields[el.name] || []).push(el.value);
      } else if (el.type !== "hidden" || el.name === "idempotency_key") {
        fields[el.name] = [el.value];
      }
    }
    return fields;
  }

  function restore(form, fields) {
    for (const el of form.elements) {
      if (!el.name || SKIPPED.has(el.name) || el.type === "password" || el.type === "file") continue;
      const values = fields[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Boolean(values && values.includes(el.value));
        // As a person's click would: only the radio that becomes chosen says it changed.
        if (el.type === "radio" && !el.checked) continue;
      } else if (values && (el.type !== "hidden" || el.name === "idempotency_key")) {
        el.value = values[0];
      } else continue;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function setUpDraft(form, store) {
    const key = DRAFT_PREFIX + form.getAttribute("data-draft");
    let saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    // A page the server sent back with its notes (a 422) already holds what was sent.
    const serverKept = form.querySelector("[aria-invalid=true]") || document.getElementById("form-errors");
    if (saved && !serverKept && Date.now() - saved.at < DRAFT_TTL_MS && saved.fields) {
      restore(form, saved.fields);
      const note = document.createElement("p");
      note.className = "alert alert-info draft-note";
      note.setAttribute("role", "status");
      note.textContent = t("js.draft_restored") + " ";
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button-small";
      discard.textContent = t("js.draft_discard");
      discard.addEventListener("click", () => { store.removeItem(key); window.location.reload(); });
      note.appendChild(discard);
      form.parentNode.insertBefore(note, form);
    } else if (saved && Date.now() - saved.at >= DRAFT_TTL_MS) {
      store.removeItem(key);
    }
    const save = () => store.setItem(key, JSON.stringify({ at: Date.now(), fields: draftOf(form) }));
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    // Kept until the server says it is recorded: a send that bounces off an expired session keeps it.
    form.addEventListener("submit", () => { save(); sessionStorage.setItem("tsunagu.pending-draft", key); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const store = storage();
    if (!store) return;
    const done = document.querySelector("[data-draft-done]");
    const pending = sessionStorage.getItem("tsunagu.pending-draft");
    if (done && pending) { store.removeItem(pending); sessionStorage.removeItem("tsunagu.pending-draft"); }
    document.querySelectorAll("form[data-draft]").forEach((form) => setUpDraft(form, store));
    document.querySelectorAll('form[action="/logout"]').forEach((form) => form.addEventListener("submit", () => {
      Object.keys(store).filter((k) => k.startsWith(DRAFT_PREFIX)).forEach((k) => store.removeItem(k));
    }));
  });

  // A message box marked data-enter-sends (both ends of a chat): Enter sends, Shift+Enter breaks
  // the line, and Enter that confirms a Japanese conversion (isComposing, or keyCode 229 in
  // browsers that report it so) does not send.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.hasAttribute("data-enter-sends") || !box.form) return;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    box.form.requestSubmit();
  });

  window.Tsunagu = { t, postJson, csrf, tickCountdowns };
})();
