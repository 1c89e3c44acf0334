// The failed-handoff page: once the referral has moved on (offered, handled elsewhere, withdrawn),
// its search and "handled elsewhere" form offer nothing any more; live.js reports each change.
"use strict";
(function () {
  const live = document.getElementById("referral-live");
  if (!live) return;
  live.addEventListener("live-update", (event) => {
    const states = (event.detail && event.detail.states) || [];
    const stuck = states[0] === "unmatched" || states[0] === "exhausted";
    document.querySelectorAll("[data-rescue-action]").forEach((section) => { section.hidden = !stuck; });
  });
})();
