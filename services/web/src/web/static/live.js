// Live regions fed by server-sent events: each [data-stream] element is replaced by the fragment
// the server renders whenever what it shows has changed. The browser reconnects by itself.
// Regions holding countdowns are not aria-live (a ticking clock would be read out every second):
// a region's [data-announce] names an aria-live element that is told only when the states the
// server reports (`states`) change, in the server's words (`announce`).
"use strict";
(function () {
  document.querySelectorAll("[data-stream]").forEach((region) => {
    const source = new EventSource(region.getAttribute("data-stream"));
    const announcer = document.getElementById(region.getAttribute("data-announce") || "");
    let lastStates = null;
    source.addEventListener("update", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (typeof data.html === "string") {
        region.setAttribute("aria-busy", "true");
        region.innerHTML = data.html;  // rendered and escaped by the server's templates
        region.setAttribute("aria-busy", "false");
        region.dispatchEvent(new CustomEvent("live-update", { detail: data }));
        const states = JSON.stringify(data.states || null);
        if (announcer && lastStates !== null && states !== lastStates && data.announce) {
          announcer.textContent = data.announce;
        }
        lastStates = states;
        if (window.Tsunagu) window.Tsunagu.tickCountdowns();
      }
      document.body.classList.toggle("stream-error", Boolean(data.error));
    });
    source.addEventListener("error", () => document.body.classList.add("stream-error"));
    source.addEventListener("open", () => document.body.classList.remove("stream-error"));
  });
})();
