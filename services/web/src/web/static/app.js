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

  window.Tsunagu = { t, postJson, csrf, tickCountdowns };
})();
