// The consultation form: C-SSRS questions when suicide is involved, the computed severity and
// its reasons as the counsellor answers, a reason when lowering it, and municipality autocomplete.
"use strict";
(function () {
  const T = window.Tsunagu;
  const form = document.getElementById("consultation-form");
  if (!form) return;
  const order = ["S0", "S1", "S2", "S3", "S4"];
  const cssrs = document.getElementById("cssrs");
  const lowering = document.getElementById("lowering");
  const consent = document.getElementById("consent-details");
  const severitySelect = document.getElementById("severity");
  const computedEl = document.getElementById("computed-severity");
  const reasonsEl = document.getElementById("computed-reasons");
  const sourceEl = document.getElementById("computed-source");
  let computed = computedEl ? computedEl.textContent.trim() : "";

  function answers() {
    const data = new FormData(form);
    const lists = ["tags", "consent_items", "protective_factors"];
    const body = { tags: data.getAll("tags"), protective_factors: data.getAll("protective_factors") };
    for (const [key, value] of data.entries()) {
      if (!lists.includes(key) && key !== "csrf_token" && typeof value === "string") body[key] = value;
    }
    // Unchecked boxes are absent from FormData; the rules read absence as "no".
    return body;
  }

  function suicideInvolved(body) {
    return body.topic === "SUICIDAL" || (body.tags || []).includes("SUI");
  }

  function show(el, visible) {
    if (!el) return;
    el.hidden = !visible;
    el.querySelectorAll("input, select, textarea").forEach((input) => { input.disabled = !visible; });
  }

  function updateLowering() {
    const chosen = severitySelect.value || computed;
    const lower = order.indexOf(chosen) >= 0 && order.indexOf(computed) >= 0 && order.indexOf(chosen) < order.indexOf(computed);
    show(lowering, lower);
    const reason = document.getElementById("lowering_reason");
    if (reason) reason.required = lower;
  }

  let pending = null;
  async function assess() {
    const body = answers();
    const involved = suicideInvolved(body);
    show(cssrs, involved);
    if (involved) {
      // The screener's own skips: Q3–Q5 only after a "yes" to Q2, the 3-month question after Q6.
      cssrs.querySelectorAll("[data-after-q2]").forEach((el) => show(el, body.q2_suicidal_thoughts === "yes"));
      cssrs.querySelectorAll("[data-after-q6]").forEach((el) => show(el, body.q6_behaviour === "yes"));
    }
    function unknown(label) {
      computed = "";
      computedEl.textContent = label;
      computedEl.className = "severity";
      delete computedEl.dataset.code;
      reasonsEl.innerHTML = "";
    }
    try {
      // intake's rules only: when intake cannot answer, the level is shown as unavailable.
      const result = await T.postJson("/console/assess", body);
      if (!result.severity) {
        unknown(result.source === "incomplete" ? "—" : T.t("js.severity_unavailable"));
        sourceEl.textContent = "";
      } else {
        computed = result.severity;
        computedEl.textContent = T.t("severity." + result.severity);
        computedEl.className = "severity sev-" + result.severity;
        computedEl.dataset.code = result.severity;
        reasonsEl.innerHTML = "";
        for (const reason of result.reasons || []) {
          const li = document.createElement("li");
          li.textContent = T.t("risk.reason." + reason);
          reasonsEl.appendChild(li);
        }
        for (const missing of result.missing || []) {
          const li = document.createElement("li");
          li.className = "missing";
          li.textContent = T.t("js.cssrs_missing", { question: T.t("cssrs." + missing) });
          reasonsEl.appendChild(li);
        }
        sourceEl.textContent = T.t("js.rules_intake", { version: result.rule_version || "" });
      }
    } catch (e) {
      unknown(T.t("js.severity_unavailable"));
      sourceEl.textContent = "";
    }
    updateLowering();
  }

  function scheduleAssess() {
    clearTimeout(pending);
    pending = setTimeout(assess, 150);
  }

  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-assess]")) scheduleAssess();
    if (event.target.name === "lawful_basis") show(consent, event.target.value === "CONSENT");
    if (event.target === severitySelect) updateLowering();
  });
  const basis = form.querySelector('input[name="lawful_basis"]:checked');
  show(consent, basis && basis.value === "CONSENT");
  assess();

  // Municipality: a name, a 6-digit code or a 7-digit postal code; suggestions from the directory.
  const muni = document.getElementById("municipality");
  const list = document.getElementById("municipality-options");
  const status = document.getElementById("municipality-status");
  let lookup = null;
  muni.addEventListener("input", () => {
    clearTimeout(lookup);
    const q = muni.value.trim();
    if (q.length < 1 || /^\d{6}\s/.test(q)) return;
    lookup = setTimeout(async () => {
      const response = await fetch(muni.dataset.autocomplete + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      list.innerHTML = "";
      for (const item of data.items || []) {
        const option = document.createElement("option");
        option.value = item.label;
        list.appendChild(option);
      }
      status.textContent = data.problem ? data.problem : T.t("js.suggestions", { count: (data.items || []).length });
    }, 200);
  });

  const firstError = document.getElementById("form-errors");
  if (firstError) firstError.focus();
})();
