/* The console's Подключения: per vendor the address to paste (with a copy button), what to paste where, the
   fields of `connectors.<vendor>` (read from the settings models on the server, so a new field appears here
   by itself; secrets typed as passwords and kept masked), whether it is connected, the last notification and
   the last error, and «Проверить» where the vendor allows a check.
   Plain JavaScript; data reaches the page as text nodes only. Shared helpers: console.js. */
(() => {
  "use strict";
  const { LANG, T, t, $, el, api, clinicPath } = window.ClinicFlow;
  const C = window.ClinicFlow.console;
  const FORMS = JSON.parse(document.getElementById("lists").textContent).connectors || {};
  const CHECKABLE = ["zadarma", "whatsapp", "telegram", "smsru"];
  const MASK = "***";

  const label = (key, fallback) => (T[key] ? t(key) : fallback);
  const when = (iso) => new Intl.DateTimeFormat(LANG, { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
    second: "2-digit", timeZone: C.state.settings.timezone }).format(new Date(iso));

  /* Our own record of a refusal is "HTTP <status>: <detail>": said in the page's language by its status. */
  function refusal(text) {
    const status = (/^HTTP (\d{3})/.exec(text) || [])[1];
    return status && T[`conerr:${status}`] ? `${t(`conerr:${status}`)} (HTTP ${status})` : text;
  }

  async function render() {
    const { body: status } = await api(clinicPath("/connectors"));
    if (C.state.view !== "connectors") return;
    $("app").replaceChildren(el("section", { class: "panel" }, el("h1", {}, t("con:title")),
      el("p", { class: "muted" }, t("con:lead"))),
      ...Object.keys(FORMS).map((vendor) => vendorPanel(vendor, status[vendor] || {})));
    const wanted = location.hash.slice(1);  // «Подключения → Telegram» from elsewhere: #telegram
    if (wanted && $(`vendor-${wanted}`)) $(`vendor-${wanted}`).scrollIntoView();
  }

  function copyButton(input) {
    return el("button", { type: "button", onclick: async (e) => {
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (_) { document.execCommand("copy"); }
      e.target.textContent = t("con:copied");
    } }, t("con:copy"));
  }

  function vendorPanel(vendor, status) {
    const stored = (C.state.settings.connectors || {})[vendor];
    const url = el("input", { readonly: true, value: status.url || "", id: `url-${vendor}`, "aria-label": `${t("con:url")} ${vendor}` });
    const inputs = FORMS[vendor].map((f) => {
      const value = stored ? stored[f.name] : null;
      const input = el("input", { name: f.name, type: f.secret ? "password" : "text", autocomplete: "off",
        value: value === null || value === undefined ? "" : value, required: f.required,
        placeholder: f.secret && value === MASK ? t("con:secret_kept") : null,
        "aria-label": `${label(`vendor:${vendor}`, vendor)} ${f.name}` });
      if (f.secret && value === MASK) input.value = "";  // kept: sent back as the mask unless retyped
      return [f, input];
    });
    const saved = el("span", { role: "status", id: `saved-${vendor}` });
    const checks = el("ul", { class: "checks", id: `checks-${vendor}` });
    const webhook = status.webhook && status.webhook.error ? status.webhook.error : null;
    return el("section", { class: "panel vendor", id: `vendor-${vendor}`, dataset: { vendor } },
      el("header", {}, el("h2", {}, label(`vendor:${vendor}`, vendor)),
        el("span", { class: status.configured ? "badge on" : "badge" },
          status.configured ? t("con:configured") : t("con:not_configured"))),
      el("div", { class: "field" }, el("label", {}, t("con:url"), el("div", { class: "copyrow" }, url, copyButton(url)))),
      T[`howto:${vendor}`] ? el("p", { class: "muted" }, t(`howto:${vendor}`)) : null,
      el("dl", { class: "legend" },
        el("dt", {}, t("con:last_notification")),
        el("dd", { id: `last-${vendor}` }, status.last_notification_at ? when(status.last_notification_at) : t("con:never")),
        el("dt", {}, t("con:last_error")),
        el("dd", { id: `error-${vendor}` }, status.last_error ? `${when(status.last_error_at)} — ${refusal(status.last_error)}`
          : (webhook || "—"))),
      el("form", { class: "grid2", onsubmit: (e) => { e.preventDefault(); save(vendor, inputs, saved); } },
        inputs.map(([f, input]) => el("div", { class: "field", dataset: { field: `connectors.${vendor}.${f.name}` } },
          el("label", {}, label(`field:${vendor}.${f.name}`, f.name), input), el("span", { class: "field-error", role: "alert" }))),
        el("div", { class: "row" }, el("button", { type: "submit", class: "primary" }, t("con:save")),
          stored ? el("button", { type: "button", onclick: () => disconnect(vendor, saved) }, t("con:disconnect")) : null,
          CHECKABLE.includes(vendor) && stored ? el("button", { type: "button", onclick: () => check(vendor, checks) },
            t("con:check")) : null, saved)),
      checks);
  }

  async function put(vendor, conf, saved) {
    const document = JSON.parse(JSON.stringify(C.state.settings));
    document.connectors = { ...(document.connectors || {}), [vendor]: conf };
    const { status, body } = await api(clinicPath("/settings"), { method: "PUT", body: JSON.stringify(document) });
    const panel = $(`vendor-${vendor}`);
    panel.querySelectorAll(".field-error").forEach((n) => { n.textContent = ""; });
    panel.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    if (status !== 200) {
      const others = [];
      for (const error of (body && body.errors) || []) {
        const box = panel.querySelector(`[data-field="${CSS.escape(error.field)}"]`);
        if (box) { box.classList.add("invalid"); box.querySelector(".field-error").textContent = C.fieldMessage(error); }
        else others.push(`${error.field}: ${C.fieldMessage(error)}`);
      }
      saved.className = "error";
      saved.textContent = others.join("; ") || t("Check the marked fields");
      return;
    }
    C.state.settings = body;
    await render();
    $(`saved-${vendor}`).className = "ok";
    $(`saved-${vendor}`).textContent = t("Saved");
  }

  function save(vendor, inputs, saved) {
    const stored = (C.state.settings.connectors || {})[vendor];
    const conf = {};
    for (const [f, input] of inputs) {
      const value = input.value.trim();
      if (f.secret && !value && stored && stored[f.name] === MASK) conf[f.name] = MASK;  // keep what is stored
      else if (value || f.required) conf[f.name] = value;
      else conf[f.name] = null;
    }
    put(vendor, conf, saved);
  }

  function disconnect(vendor, saved) {
    if (window.confirm(t("con:disconnect_confirm", { vendor: label(`vendor:${vendor}`, vendor) }))) put(vendor, null, saved);
  }

  async function check(vendor, list) {
    list.replaceChildren(el("li", {}, "…"));
    const { status, body } = await api(clinicPath(`/connectors/${vendor}/check`), { method: "POST" });
    if (status !== 200) { list.replaceChildren(el("li", { class: "fail" }, C.problemText(body))); return; }
    list.replaceChildren(...body.checks.map((c) => el("li", { class: c.ok ? "ok" : "fail", dataset: { check: c.name } },
      `${label(`check:${c.name}`, c.name)}: ${c.ok ? t("con:ok") : t("con:fail")}${c.detail ? ` (${c.detail})` : ""}`)));
  }

  C.register("connectors", render);
})();
