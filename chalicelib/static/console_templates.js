/* ClinicFlow console: the WhatsApp templates editor (settings `whatsapp_templates`, `sending`).
   Its own file so the console's pages grow apart: it adds a panel to the Settings view when that view is shown,
   and — through the shared API call, wrapped before console.js takes it — keeps its edits in every settings
   document the page saves and takes them back from every document the page loads.
   Every piece of data reaches the page as text nodes, never as HTML. */
(() => {
  "use strict";
  const CF = window.ClinicFlow;
  const S = JSON.parse(document.getElementById("wa-strings").textContent);
  const tr = (key) => S[key] || CF.t(key);
  const FACTS = ["patient_first_name", "patient_name", "date", "time", "doctor", "clinic", "clinic_phone", "offer",
                 "service", "telegram_link"];
  const CATEGORIES = ["marketing", "utility", "authentication", "service"];
  const PURPOSES = JSON.parse(document.getElementById("lists").textContent).purposes;
  const edits = { templates: null, sending: null, purpose: PURPOSES[0] };  // null: nothing loaded yet

  /* ---- the settings documents the page loads and saves ------------------------------------- */

  const isSettings = (path) => /\/v1\/clinics\/[^/]+\/settings$/.test(path);
  const api = CF.api;
  CF.api = async (path, options = {}) => {
    const method = (options.method || "GET").toUpperCase();
    if (isSettings(path) && method === "PUT" && edits.templates !== null && typeof options.body === "string") {
      const doc = JSON.parse(options.body);
      doc.whatsapp_templates = edits.templates;
      doc.sending = { ...(doc.sending || {}), ...edits.sending };
      options = { ...options, body: JSON.stringify(doc) };
    }
    const answer = await api(path, options);
    if (isSettings(path) && answer && answer.status === 200 && answer.body && !options.raw) {
      edits.templates = structuredClone(answer.body.whatsapp_templates || {});
      edits.sending = structuredClone(answer.body.sending || {});
    }
    return answer;
  };

  /* ---- the panel ----------------------------------------------------------------------------- */

  const { el } = CF;
  const current = () => edits.templates[edits.purpose] || null;

  function panel() {
    const select = el("select", { id: "wa-purpose", "aria-label": tr("message"),
      onchange: (e) => { edits.purpose = e.target.value; redraw(); } },
      PURPOSES.map((p) => el("option", { value: p, selected: p === edits.purpose }, CF.t(`purpose:${p}`))));
    return el("section", { class: "panel", id: "wa-templates" }, el("h2", {}, tr("title")),
      el("p", { class: "muted" }, tr("intro")), el("div", { class: "row" }, select),
      el("div", { id: "wa-editor" }), el("h3", {}, tr("prices")), prices(), options());
  }

  function editor() {
    const tpl = current();
    if (!tpl) {
      return [el("p", { class: "muted" }, tr("none")), el("button", { type: "button", id: "wa-create",
        onclick: () => { edits.templates[edits.purpose] = { name: "", language: "ru", parameters: [], body: "" }; redraw(); } },
        tr("title") + " +")];
    }
    const field = (key, label, attrs = {}) => el("div", { class: "field" }, el("label", {}, label,
      el(key === "body" ? "textarea" : "input", { id: `wa-${key}`, value: tpl[key] || "", rows: 3, ...attrs,
        oninput: (e) => { tpl[key] = e.target.value; schedule(); } })));
    const params = tpl.parameters.map((fact, i) => el("li", {},
      el("span", {}, `{{${i + 1}}} `),
      el("select", { "aria-label": `{{${i + 1}}}`, onchange: (e) => { tpl.parameters[i] = e.target.value; schedule(); } },
        FACTS.map((f) => el("option", { value: f, selected: f === fact }, tr(`fact:${f}`)))),
      el("button", { type: "button", class: "link", onclick: () => { tpl.parameters.splice(i, 1); redraw(); } }, tr("remove"))));
    return [
      el("div", { class: "grid2" }, field("name", tr("name"), { pattern: "[a-z0-9_]+", placeholder: "recall_reminder" }),
        field("language", tr("language"), { placeholder: "ru" })),
      field("body", tr("body"), { placeholder: "Здравствуйте, {{1}}! …" }),
      el("h3", {}, tr("parameters")), el("ol", { id: "wa-params" }, params),
      el("button", { type: "button", disabled: tpl.parameters.length >= 10,
        onclick: () => { tpl.parameters.push("patient_first_name"); redraw(); } }, tr("add")),
      el("h3", {}, tr("preview")), el("pre", { id: "wa-preview", class: "message" }),
      el("p", { id: "wa-error", class: "error", role: "alert" }),
      el("button", { type: "button", class: "link", onclick: () => { delete edits.templates[edits.purpose]; redraw(); } },
        tr("delete"))];
  }

  function prices() {
    const rates = (edits.sending.whatsapp_prices = edits.sending.whatsapp_prices || {});
    return el("div", { class: "grid2", id: "wa-prices" }, CATEGORIES.map((c) => el("div", { class: "field" },
      el("label", {}, tr(`category:${c}`), el("input", { type: "number", min: "0", step: "0.01", value: rates[c] ?? "",
        dataset: { category: c },
        oninput: (e) => { if (e.target.value === "") delete rates[c]; else rates[c] = e.target.value; } })))));
  }

  function options() {
    const box = (key, label) => el("p", {}, el("label", {}, el("input", { type: "checkbox", id: `wa-${key}`,
      checked: edits.sending[key], onchange: (e) => { edits.sending[key] = e.target.checked; } }), " ", label));
    return el("div", {}, box("telegram_invite", tr("invite")), box("shared_fallback", tr("fallback")));
  }

  let timer = null;
  function schedule() { clearTimeout(timer); timer = setTimeout(preview, 300); }

  async function preview() {
    const tpl = current();
    const out = document.getElementById("wa-preview");
    if (!tpl || !out) return;
    const { status, body } = await CF.api(CF.clinicPath("/settings/whatsapp-templates/preview"), { method: "POST",
      body: JSON.stringify({ scenario: edits.purpose, template: tpl }) });
    document.getElementById("wa-error").textContent = status === 200 ? ""
      : ((body && body.errors) || []).map((e) => e.message).join("; ") || (body && body.detail) || "";
    out.textContent = status === 200 ? body.text : "";
  }

  function redraw() {
    const host = document.getElementById("wa-editor");
    if (!host) return;
    host.replaceChildren(...editor());
    schedule();
  }

  /* The Settings view is drawn by console.js: the panel joins it, before its Save bar. */
  new MutationObserver(() => {
    const bar = document.querySelector("#app .savebar");
    if (!bar || document.getElementById("wa-templates") || edits.templates === null) return;
    bar.before(panel());
    redraw();
  }).observe(document.getElementById("app"), { childList: true, subtree: true });
})();
