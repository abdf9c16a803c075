/* ClinicFlow manager's console. Plain JavaScript: no build step, no third-party code.
   Every piece of data reaches the page as text nodes, never as HTML. */
(() => {
  "use strict";
  const { LANG, T, t, $, el, api, clinicPath } = window.ClinicFlow;
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const LISTS = JSON.parse(document.getElementById("lists").textContent);  // from the scenario registry
  const LADDERS = LISTS.ladders;
  const LADDER_PARAMS = LISTS.params;  // each ladder's numbers, as its scenario declares them (Scenario.params)
  const CHANNELS = ["preferred", "whatsapp", "telegram", "sms", "email"];
  const state = { settings: null, ladder: "lead", view: "dashboard", board: null,
                  previewTimer: null, staff: [], boardAsked: 0 };

  /* ---- numbers and dates in the page's language ---------------------------------------- */

  const number = (n) => (n === null || n === undefined ? "—" : new Intl.NumberFormat(LANG).format(n));
  const pct = (n) => (n === null || n === undefined ? "—"
    : new Intl.NumberFormat(LANG, { style: "percent", maximumFractionDigits: 1 }).format(n / 100));
  const money = (s) => new Intl.NumberFormat(LANG, { style: "currency", currency: (state.settings && state.settings.currency) || "RUB" })
    .format(Number(s));
  function when(iso) {
    const zone = state.settings ? state.settings.timezone : undefined;
    return new Intl.DateTimeFormat(LANG, { weekday: "short", day: "numeric", month: "long", hour: "2-digit",
                                           minute: "2-digit", timeZone: zone }).format(new Date(iso));
  }
  /* A day as the page's language writes it with digits (31.12.2026), and back to ISO (the API's). */
  const localDay = (iso) => (LANG === "ru" ? iso.split("-").reverse().join(".") : iso);
  const dayOf = (text) => {
    const found = /^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$/.exec(text);
    return found ? `${found[3]}-${found[2].padStart(2, "0")}-${found[1].padStart(2, "0")}` : encodeURIComponent(text.trim());
  };
  const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

  function show(view) {
    state.view = view;
    for (const button of document.querySelectorAll("#nav button")) {
      button.setAttribute("aria-current", button.dataset.view === view ? "page" : "false");
    }
    $("app").replaceChildren();
    (VIEWS[view] || renderDashboard)();
  }
  const VIEWS = { dashboard: () => renderDashboard(), settings: () => renderSettings(), staff: () => renderStaff() };

  /* A validation error in the page's language, by its code (never by the English text); the text as it came
     when the page has no words for the code. */
  function fieldMessage(error) {
    const key = `error:${error.code}`;
    return error.code && T[key] ? t(key, error.params || {}) : error.message;
  }

  /* What the other pages of the console (each in its own file) use: they register their view here. */
  window.ClinicFlow.console = {
    number, pct, money, when, isoDay, fieldMessage, problemText: (body) => problemText(body), state,
    show: (view) => show(view),
    register(view, render) { VIEWS[view] = render; },
    day: (iso) => new Intl.DateTimeFormat(LANG, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
      .format(new Date(`${iso.slice(0, 10)}T00:00:00Z`)),
  };

  /* ---- dashboard ---------------------------------------------------------------------------- */

  function lastMonth() {
    const now = new Date();
    const first = new Date(now.getFullYear(), now.getMonth() - 1, 1);
    const last = new Date(now.getFullYear(), now.getMonth(), 0);
    return [isoDay(first), isoDay(last)];
  }

  function renderDashboard() {
    const today = new Date();
    // Typed in the page's own date format (a date input shows the browser's, e.g. 10/01/2026 in a Russian page)
    const dateInput = (id, iso) => el("input", { id, value: localDay(iso), size: 10, inputmode: "numeric",
                                                 placeholder: localDay("2026-12-31").replace(/\d/g, "_") });
    const from = dateInput("from", isoDay(new Date(today.getTime() - 29 * 864e5)));
    const to = dateInput("to", isoDay(today));
    const range = (a, b) => { from.value = localDay(a); to.value = localDay(b); loadDashboard(); };
    const bar = el("form", { class: "range", onsubmit: (e) => { e.preventDefault(); loadDashboard(); } },
      el("label", { for: "from" }, t("From")), from, el("label", { for: "to" }, t("To")), to,
      el("button", { type: "submit", class: "primary" }, t("Show")),
      el("button", { type: "button", onclick: () => range(isoDay(today), isoDay(today)) }, t("Today")),
      el("button", { type: "button", onclick: () => range(isoDay(new Date(today.getTime() - 6 * 864e5)), isoDay(today)) },
        t("7 days")),
      el("button", { type: "button", onclick: () => range(...lastMonth()) }, t("Last month")));
    $("app").append(el("section", { class: "panel" }, el("h1", {}, t("Dashboard")), bar,
      el("p", { class: "muted", id: "period" })), el("div", { id: "board" }));
    loadDashboard();
  }

  async function loadDashboard() {
    const query = `?from=${dayOf($("from").value)}&to=${dayOf($("to").value)}&lang=${LANG}`;
    const asked = ++state.boardAsked;  // only the latest range is drawn, whatever order the answers come in
    const { status, body } = await api(clinicPath(`/dashboard${query}`));
    if (state.view !== "dashboard" || asked !== state.boardAsked) return;
    const target = $("board");
    if (!target) return;  // the manager moved on before the answer came
    if (status !== 200) {
      target.replaceChildren(el("p", { class: "error", role: "alert" }, problemText(body)));
      return;
    }
    state.board = body;
    const period = $("period");
    if (period) period.textContent = `${window.ClinicFlow.console.day(body.from)} — ${window.ClinicFlow.console.day(body.to)}`;
    const f = body.funnel;
    const tiles = [
      [t("Leads"), number(f.leads)], [t("Booked"), number(f.booked)], [t("Came"), number(f.came)],
      [t("Lead to chair"), pct(f.lead_to_chair_pct)],
      [t("Missed calls not returned"), number(body.leads.missed_not_returned)],
      [t("Cancelled"), number(body.appointments.cancelled)], [t("No-shows"), number(body.appointments.no_show)],
      [t("Revenue"), money(body.visits.revenue)],
    ];
    target.replaceChildren(
      el("div", { class: "tiles" }, tiles.map(([label, value]) => el("div", { class: value.length > 9 ? "tile wide" : "tile" },
        el("div", { class: "tile-value" }, value), el("div", { class: "tile-label" }, label)))),
      el("div", { class: "charts" }, funnelChart(f), dayChart(body.by_day), hourChart(body.calls_by_hour)),
      ...body.tables.map(tableView), spendPanel());
  }

  /* ---- ad spend: per source and month, typed in or a small CSV ---------------------------------- */

  function spendPanel() {
    const month = el("input", { type: "month", id: "spend-month", value: state.board.to.slice(0, 7), "aria-label": t("Month") });
    const known = new Set([...Object.keys(state.board.funnel.by_source), ...Object.keys(state.board.ad_spend)]);
    const source = el("input", { id: "spend-source", list: "spend-sources", required: true, placeholder: "yandex_direct",
                                 "aria-label": t("Source") });
    const amount = el("input", { id: "spend-amount", inputmode: "decimal", required: true, placeholder: "100 000",
                                 "aria-label": t("Ad spend") });
    const file = el("input", { type: "file", id: "spend-file", accept: ".csv,text/csv", "aria-label": t("CSV file") });
    const status = el("p", { id: "spend-status", role: "status" });
    async function save(body, type) {
      const { status: code, body: answer } = await api(clinicPath("/ad-spend"), { method: "PUT", body,
                                                                                    headers: { "Content-Type": type } });
      if (code !== 200) {
        status.className = "error";
        status.textContent = ((answer && answer.errors) || []).map((e) => `${e.field}: ${fieldMessage(e)}`).join("; ")
          || problemText(answer);
        return;
      }
      status.className = "ok";
      status.textContent = t("Saved");
      loadDashboard();
    }
    return el("section", { class: "panel", id: "ad-spend" }, el("h2", {}, t("Ad spend")),
      el("p", { class: "muted" }, t("What each lead source cost in a month. The tables above divide it by the leads, bookings and patients who came in the period, and compare it with what they paid (ROMI).")),
      el("form", { class: "row", onsubmit: (e) => {
        e.preventDefault();
        save(JSON.stringify({ rows: [{ month: month.value, source: source.value.trim(),
                                       amount: amount.value.replace(/[\s\u00a0]/g, "").replace(",", ".") }] }),
             "application/json");
      } }, month, source, el("datalist", { id: "spend-sources" }, [...known].map((k) => el("option", { value: k }))),
        amount, el("button", { type: "submit", class: "primary" }, t("Save"))),
      el("div", { class: "row" }, el("label", {}, t("Or upload a CSV: month;source;amount"), file),
        el("button", { type: "button", id: "spend-upload", onclick: async () => {
          if (file.files[0]) save(await file.files[0].arrayBuffer(), "text/csv");
        } }, t("Upload"))),
      status);
  }

  function funnelChart(f) {
    const max = Math.max(f.leads, 1);
    const rows = [[t("Leads"), f.leads], [t("Booked"), f.booked], [t("Came"), f.came]];
    return el("figure", { class: "panel chart", id: "funnel-chart" },
      el("figcaption", {}, t("Lead to chair")),
      rows.map(([label, n]) => el("div", { class: "hbar" }, el("span", { class: "hbar-label" }, label),
        el("span", { class: "hbar-track" }, el("span", { class: "hbar-fill", style: null, dataset: { w: String(n / max) } })),
        el("span", { class: "hbar-value" }, number(n)))));
  }

  function dayChart(days) {
    const max = Math.max(1, ...days.map((d) => d.leads));
    const day = (iso) => new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short", timeZone: "UTC" })
      .format(new Date(`${iso}T00:00:00Z`));
    return el("figure", { class: "panel chart" }, el("figcaption", {}, t("Leads by day")),
      el("div", { class: "vbars" }, days.map((d) => el("span", { class: "vbar", title: `${day(d.date)}: ${number(d.leads)}`,
        dataset: { h: String(d.leads / max) } }))),
      days.length ? el("div", { class: "axis" }, el("span", {}, day(days[0].date)), el("span", {}, day(days[days.length - 1].date)))
        : null);
  }

  function hourChart(hours) {
    // The API sends {"00": n, …, "23": n}. A JS object lists integer-like keys ("10"…"23") before the others
    // ("00"…"09"), so Object.entries alone rotated the chart by 10 hours: sort by the hour itself.
    const entries = Object.entries(hours).sort(([a], [b]) => Number(a) - Number(b));
    const max = Math.max(1, ...entries.map(([, n]) => n));
    return el("figure", { class: "panel chart", id: "hour-chart" }, el("figcaption", {}, t("Calls by hour")),
      el("div", { class: "vbars" }, entries.map(([h, n]) => el("span", { class: "vbar", title: `${h}:00 — ${number(n)}`,
        dataset: { h: String(n / max), hour: h, value: String(n) } }))),
      el("div", { class: "axis" }, ["00", "06", "12", "18", "23"].map((h) => el("span", {}, `${h}:00`))));
  }

  function sizeBars() {  // widths set through the CSSOM: the style-src policy forbids inline style attributes
    for (const fill of document.querySelectorAll(".hbar-fill")) fill.style.width = `${Number(fill.dataset.w) * 100}%`;
    for (const bar of document.querySelectorAll(".vbar")) bar.style.height = `${Math.max(2, Number(bar.dataset.h) * 100)}%`;
  }
  new MutationObserver(sizeBars).observe(document.body, { childList: true, subtree: true });

  function cell(column, value) {
    if (value === null || value === undefined) return "—";
    if (column.kind === "text") return String(value);  // a name or a reason: shown as written, never as a number
    if (column.kind === "money" || (typeof value === "string" && /^-?\d+\.\d\d$/.test(value))) return money(value);
    if (column.kind === "pct") return pct(value);
    if (typeof value === "number") return number(value);
    return value;
  }

  function tableView(table) {
    const download = (format) => exportTable(table.id, format);
    const helps = table.columns.filter((c) => c.help);
    return el("section", { class: "panel table", dataset: { table: table.id } },
      el("header", {}, el("h2", {}, table.title), el("span", { class: "spacer" }),
        el("button", { type: "button", onclick: () => download("csv") }, "CSV"),
        el("button", { type: "button", onclick: () => download("xlsx") }, "XLSX")),
      table.rows.length === 0 ? el("p", { class: "muted" }, t("Nothing in this period"))
        : el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, table.columns.map((c) => el("th", {
          class: c.kind !== "text" ? "num" : null, title: c.help || null }, c.label)))),
          el("tbody", {}, table.rows.map((row) => el("tr", {}, row.map((v, i) => el("td", {
            class: table.columns[i].kind !== "text" ? "num" : null }, cell(table.columns[i], v)))))))),
      helps.length ? el("dl", { class: "legend" }, helps.flatMap((c) => [el("dt", {}, c.label), el("dd", {}, c.help)]))
        : null);
  }

  async function exportTable(id, format) {
    const type = format === "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
    const query = `?from=${state.board.from}&to=${state.board.to}&lang=${LANG}&table=${id}&format=${format}`;
    const response = await api(clinicPath(`/dashboard/export${query}`), { raw: true, headers: { "Accept": type } });
    const name = `${id}_${state.board.from}_${state.board.to}.${format}`;
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  /* ---- settings ------------------------------------------------------------------------------ */

  function field(path, label, input, hint) {
    return el("div", { class: "field", dataset: { field: path } }, el("label", {}, label, input),
      hint ? el("small", { class: "muted" }, hint) : null, el("span", { class: "field-error", role: "alert" }));
  }

  function input(path, value, attrs = {}) {
    return el("input", { value: value === null || value === undefined ? "" : value, dataset: { path },
      onchange: (e) => {
        const raw = e.target.value.trim();
        setPath(path, attrs.type === "number" ? Number(raw) : (raw || null));
        schedulePreview();
      },
      ...attrs });
  }

  function setPath(path, value) {
    const parts = path.split(".");
    let node = state.settings;
    for (const part of parts.slice(0, -1)) node = node[part];
    node[parts[parts.length - 1]] = value;
  }

  function renderSettings() {
    const s = state.settings;
    const app = $("app");
    app.append(
      el("section", { class: "panel" }, el("h1", {}, t("Settings")),
        el("p", { class: "muted" }, t("Changes apply after Save; ladders already running keep their plan."))),
      hoursPanel(s), specialPanel(s), ladderPanel(s), messagesPanel(), peoplePanel(s), reasonsPanel(s), digestPanel(s),
      el("div", { class: "savebar" }, el("button", { type: "button", class: "primary", id: "save", onclick: save },
        t("Save")), el("span", { id: "saved", role: "status" })));
    schedulePreview();
    showMessage();
  }

  function hoursPanel(s) {
    return el("section", { class: "panel", dataset: { field: "working_hours" } }, el("h2", {}, t("Working hours")),
      el("table", { class: "hours" }, DAYS.map((day) => {
        const span = s.working_hours[day];
        const open = el("input", { type: "checkbox", checked: Boolean(span), "aria-label": t(`day:${day}`),
          onchange: (e) => { s.working_hours[day] = e.target.checked ? ["09:00", "21:00"] : null; show("settings"); } });
        const time = (i) => el("input", { class: "time", value: span ? span[i] : "", disabled: !span,
          "aria-label": `${t(`day:${day}`)} ${i ? t("closes") : t("opens")}`, pattern: "\\d\\d:\\d\\d", size: 5,
          onchange: (e) => { s.working_hours[day][i] = e.target.value.trim(); schedulePreview(); } });
        return el("tr", { dataset: { day, field: `working_hours.${day}` } }, el("th", {}, t(`day:${day}`)),
          el("td", {}, open), el("td", {}, time(0)), el("td", {}, "—"), el("td", {}, time(1)),
          el("td", {}, el("span", { class: "field-error", role: "alert" })));  // only the wrong day is marked
      })), el("span", { class: "field-error", role: "alert" }),
      field("holidays_country", t("Public holidays of (country code, empty for none)"),
        el("input", { value: s.holidays_country || "", size: 4, onchange: (e) => {
          s.holidays_country = e.target.value.trim() || null; schedulePreview(); } })));
  }

  function specialPanel(s) {
    const rows = s.special_days.map((entry, i) => el("div", { class: "row", dataset: { field: `special_days.${i}` } },
      el("input", { type: "date", value: entry.start, "aria-label": t("First date"),
        onchange: (e) => { entry.start = e.target.value; schedulePreview(); } }),
      "—", el("input", { type: "date", value: entry.end, "aria-label": t("Last date"),
        onchange: (e) => { entry.end = e.target.value; schedulePreview(); } }),
      el("label", {}, el("input", { type: "checkbox", checked: Boolean(entry.hours), onchange: (e) => {
        entry.hours = e.target.checked ? ["10:00", "18:00"] : null; show("settings"); } }), t("open")),
      entry.hours ? [0, 1].map((k) => el("input", { class: "time", value: entry.hours[k], size: 5,
        "aria-label": k ? t("closes") : t("opens"), onchange: (e) => { entry.hours[k] = e.target.value.trim(); schedulePreview(); } }))
        : el("span", { class: "muted" }, t("closed")),
      el("input", { value: entry.note || "", placeholder: t("Note"), onchange: (e) => { entry.note = e.target.value; } }),
      el("button", { type: "button", class: "link", onclick: () => { s.special_days.splice(i, 1); show("settings"); } },
        t("Remove")),
      el("span", { class: "field-error", role: "alert" })));
    const year = new Date().getFullYear() + 1;
    return el("section", { class: "panel", id: "special-days" }, el("h2", {}, t("Holidays and special days")),
      el("p", { class: "muted" }, t("Dates with other hours than usual: open on public holidays, or closed.")),
      rows, el("button", { type: "button", onclick: () => {
        s.special_days.push({ start: `${year}-01-03`, end: `${year}-01-08`, hours: ["10:00", "18:00"], note: "" });
        show("settings"); } }, t("Add dates")));
  }

  function ladderPanel(s) {
    const name = state.ladder;
    const seq = s.sequences[name];
    const steps = seq.steps;
    const params = LADDER_PARAMS[name] || [];
    const rerender = () => { show("settings"); };
    const list = steps.map((step, i) => {
      const target = step.action === "call"
        ? el("select", { "aria-label": t("Line"), onchange: (e) => { step.line = e.target.value; schedulePreview(); } },
          ["city", "mobile"].map((l) => el("option", { value: l, selected: step.line === l }, t(`line:${l}`))))
        : el("select", { "aria-label": t("Channel"), onchange: (e) => { step.channel = e.target.value; schedulePreview(); } },
          CHANNELS.map((c) => el("option", { value: c, selected: step.channel === c }, t(`msg:${c}`))));
      return el("li", { class: "step", dataset: { field: `sequences.${name}.steps.${i}` } },
        el("span", { class: "step-no" }, String(i + 1)),
        el("select", { "aria-label": t("Action"), onchange: (e) => {
          step.action = e.target.value;
          if (step.action === "call") { step.line = "city"; step.channel = null; } else { step.channel = "preferred"; step.line = null; }
          rerender(); } },
          el("option", { value: "call", selected: step.action === "call" }, t("Call")),
          el("option", { value: "message", selected: step.action === "message" }, t("Message"))),
        target,
        el("label", {}, i === 0 ? t("after the start, min") : t("after the previous step, min"),
          el("input", { type: "number", min: 0, value: step.delay_minutes, class: "delay", onchange: (e) => {
            step.delay_minutes = Number(e.target.value); schedulePreview(); } })),
        el("button", { type: "button", class: "link", "aria-label": t("Move up"), disabled: i === 0,
          onclick: () => { steps.splice(i - 1, 0, steps.splice(i, 1)[0]); rerender(); } }, "↑"),
        el("button", { type: "button", class: "link", "aria-label": t("Move down"), disabled: i === steps.length - 1,
          onclick: () => { steps.splice(i + 1, 0, steps.splice(i, 1)[0]); rerender(); } }, "↓"),
        el("button", { type: "button", class: "link", disabled: steps.length === 1,
          onclick: () => { steps.splice(i, 1); rerender(); } }, t("Remove")),
        el("span", { class: "field-error", role: "alert" }));
    });
    const now = new Date();
    return el("section", { class: "panel", id: "ladder" }, el("h2", {}, t("Contact ladders")),
      el("div", { class: "row" }, el("label", {}, t("Scenario"), el("select", { id: "scenario", onchange: (e) => {
        state.ladder = e.target.value; rerender(); } },
        LADDERS.map((l) => el("option", { value: l, selected: l === name }, t(`scenario:${l}`))))),
        el("label", {}, el("input", { type: "checkbox", checked: seq.enabled !== false, onchange: (e) => {
          seq.enabled = e.target.checked; } }), t("on")),
        ...params.map((param) => field(`sequences.${name}.${param}`, t(`param:${name}.${param}`),
          el("input", { type: "number", min: 0, value: seq[param], class: "delay",
            onchange: (e) => { seq[param] = Number(e.target.value); } })))),
      el("ol", { class: "steps" }, list),
      el("button", { type: "button", disabled: steps.length >= 10, onclick: () => {
        steps.push({ action: "call", line: "mobile", channel: null, delay_minutes: 60 }); rerender(); } }, t("Add step")),
      el("div", { class: "preview" }, el("h3", {}, t("When each step would happen")),
        el("label", {}, t("The scenario starts at"), el("input", { type: "datetime-local", id: "preview-start",
          value: state.previewStart || clinicNow(now),
          onchange: (e) => { state.previewStart = e.target.value; schedulePreview(); } })),
        el("p", { class: "muted" }, t("For a patient with no preferred time who does not answer: each step waits its delay, then for working hours.")),
        el("ol", { id: "preview" })));
  }

  function clinicNow(now) {  // "YYYY-MM-DDTHH:MM" on the clinic's clock, whatever the browser's time zone
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: state.settings.timezone, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
      .formatToParts(now).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }

  function schedulePreview() {
    clearTimeout(state.previewTimer);
    state.previewTimer = setTimeout(preview, 250);
  }

  async function preview() {
    const list = $("preview");
    if (!list) return;
    const start = $("preview-start").value;
    const { status, body } = await api(clinicPath("/settings/preview"), { method: "POST",
      body: JSON.stringify({ scenario: state.ladder, start: start.length === 16 ? `${start}:00` : start, settings: state.settings }) });
    if (status !== 200) { showErrors(body); list.replaceChildren(); return; }
    clearErrors();
    list.replaceChildren(...body.steps.map((step) => el("li", { dataset: { at: step.at } },
      el("strong", {}, step.action === "call" ? t(`call:${step.line}`) : t(`send:${step.channel}`)), " — ",
      el("time", { datetime: step.at }, when(step.at)))));
  }

  const PURPOSES = LISTS.purposes;

  function messagesPanel() {
    const purpose = el("select", { id: "message-purpose", "aria-label": t("Message"), onchange: showMessage },
      PURPOSES.map((p) => el("option", { value: p }, t(`purpose:${p}`))));
    const channel = el("select", { id: "message-channel", "aria-label": t("Channel"), onchange: showMessage },
      ["sms", "whatsapp", "telegram", "email"].map((c) => el("option", { value: c }, t(`msg:${c}`))));
    return el("section", { class: "panel", id: "messages" }, el("h2", {}, t("Messages to patients")),
      el("p", { class: "muted" }, t("What a patient receives, with your clinic's names and hours. An SMS is a short version that fits in two parts.")),
      el("div", { class: "row" }, purpose, channel),
      el("pre", { id: "message-text", class: "message" }), el("p", { id: "message-size", class: "muted" }));
  }

  async function showMessage() {
    const { status, body } = await api(clinicPath("/settings/messages/preview"), { method: "POST",
      body: JSON.stringify({ purpose: $("message-purpose").value, channel: $("message-channel").value, settings: state.settings }) });
    if (status !== 200 || !$("message-text")) return;
    $("message-text").textContent = body.text;
    $("message-size").textContent = body.channel === "sms"
      ? t("%(chars)s characters · SMS parts: %(parts)s", { chars: number(body.characters), parts: number(body.sms_parts) })
      : t("%(chars)s characters", { chars: number(body.characters) });
  }

  function peoplePanel(s) {
    return el("section", { class: "panel" }, el("h2", {}, t("Lines, people and names")),
      el("div", { class: "grid2" },
        field("lines.city", t("City line"), input("lines.city", s.lines.city, { placeholder: "+7 495 …" })),
        field("lines.mobile", t("Mobile line"), input("lines.mobile", s.lines.mobile, { placeholder: "+7 916 …" }))),
      pairs("admins", t("Administrators: MIS id and name"), "U-1", t("Name")),
      pairs("staff_extensions", t("PBX extensions: administrator's MIS id and extension"), "U-1", "101"),
      pairs("doctors", t("Doctors: MIS id and name"), "D-1", t("Name")),
      pairs("source_names", t("Lead sources: code and the name you read"), "yandex_direct", t("source:yandex_direct")),
      pairs("channel_names", t("Channels: code and the name you read"), "walk_in", t("channel:walk_in")));
  }

  function pairs(key, title, idHint, nameHint) {
    const map = state.settings[key];
    const rows = Object.entries(map).map(([id, name]) => el("div", { class: "row" },
      el("code", {}, id), el("input", { value: name, "aria-label": `${title}: ${id}`, onchange: (e) => { map[id] = e.target.value; } }),
      el("button", { type: "button", class: "link", onclick: () => { delete map[id]; show("settings"); } }, t("Remove"))));
    const id = el("input", { placeholder: idHint, size: 14, "aria-label": `${title}: ${t("code")}` });
    const name = el("input", { placeholder: nameHint, "aria-label": `${title}: ${t("Name")}` });
    return el("div", { class: "pairs", dataset: { field: key } }, el("h3", {}, title), rows,
      el("div", { class: "row" }, id, name, el("button", { type: "button", onclick: () => {
        if (id.value.trim() && name.value.trim()) { map[id.value.trim()] = name.value.trim(); show("settings"); }
      } }, t("Add"))), el("span", { class: "field-error", role: "alert" }));
  }

  function reasonsPanel(s) {
    const kinds = [["lost", t("Why leads and patients are lost")], ["cancelled", t("Why appointments are cancelled")]];
    const row = (kind, title, reason, i) => el("div", { class: "row reason", dataset: { field: `reasons.${kind}.${i}`, code: reason.code } },
      el("code", {}, reason.code),
      el("input", { value: reason.name, "aria-label": `${title}: ${reason.code}`,
                    onchange: (e) => { reason.name = e.target.value.trim(); } }),
      el("input", { class: "aliases", value: reason.aliases.join(", "), placeholder: t("Words that mean it, comma-separated"),
                    "aria-label": `${t("Words that mean it, comma-separated")}: ${reason.code}`,
                    onchange: (e) => { reason.aliases = e.target.value.split(",").map((a) => a.trim()).filter(Boolean); } }),
      reason.code === "other" ? null : el("button", { type: "button", class: "link", onclick: () => {
        s.reasons[kind].splice(i, 1); show("settings"); } }, t("Remove")),
      el("span", { class: "field-error", role: "alert" }));
    const add = (kind) => {
      const name = el("input", { placeholder: t("Name"), "aria-label": `${t("New reason")} (${kind})` });
      return el("div", { class: "row" }, name, el("button", { type: "button", onclick: () => {
        const text = name.value.trim();
        if (!text) return;
        const list = s.reasons[kind];
        let n = list.length;
        while (list.some((r) => r.code === `custom_${n}`)) n += 1;
        list.splice(Math.max(0, list.length - 1), 0, { code: `custom_${n}`, name: text, aliases: [] });  // before «other»
        show("settings");
      } }, t("Add")));
    };
    return el("section", { class: "panel", id: "reasons" }, el("h2", {}, t("Reasons")),
      el("p", { class: "muted" }, t("The desk picks one of these and may add a comment. Text from the MIS is matched by the name and the words beside it, whatever their case or form; text that matches nothing is counted as «other», with the text kept.")),
      kinds.map(([kind, title]) => el("div", { dataset: { field: `reasons.${kind}` } }, el("h3", {}, title),
        s.reasons[kind].map((reason, i) => row(kind, title, reason, i)), add(kind),
        el("span", { class: "field-error", role: "alert" }))));
  }

  function digestPanel(s) {
    const d = s.digest;
    return el("section", { class: "panel" }, el("h2", {}, t("Nightly digest")),
      el("div", { class: "grid2" },
        field("digest.hour", t("Hour it is sent (clinic time)"), input("digest.hour", d.hour, { type: "number", min: 0, max: 23 })),
        field("digest.emails", t("Emails, one per line"), el("textarea", { rows: 3, onchange: (e) => {
          d.emails = e.target.value.split(/\s*[\n,;]\s*/).filter(Boolean); } }, d.emails.join("\n"))),
        field("digest.slack_webhook_url", t("Slack incoming webhook URL"),
          input("digest.slack_webhook_url", d.slack_webhook_url, { placeholder: "https://hooks.slack.com/…" })),
        field("digest.telegram_chat_id", t("Telegram chat id for the digest and escalations"),
          input("digest.telegram_chat_id", d.telegram_chat_id, { placeholder: "-1001234567890" }),
          t("The clinic's bot (Connectors → Telegram) must be a member of the chat."))));
  }

  function clearErrors() {
    for (const node of document.querySelectorAll(".field-error")) node.textContent = "";
    for (const node of document.querySelectorAll(".invalid")) node.classList.remove("invalid");
  }

  function showErrors(body) {
    clearErrors();
    const errors = (body && body.errors) || [];
    const unplaced = [];
    for (const error of errors) {
      // the deepest element whose data-field is a prefix of the error's field
      const candidates = [...document.querySelectorAll("[data-field]")]
        .filter((n) => error.field === n.dataset.field || error.field.startsWith(`${n.dataset.field}.`))
        .sort((a, b) => b.dataset.field.length - a.dataset.field.length);
      const target = candidates[0] && candidates[0].querySelector(":scope > .field-error, :scope .field-error");
      if (target) {
        target.textContent = fieldMessage(error);
        candidates[0].classList.add("invalid");
      } else unplaced.push(`${error.field}: ${fieldMessage(error)}`);
    }
    $("saved").textContent = unplaced.length ? unplaced.join("; ") : (errors.length ? t("Check the marked fields") : problemText(body));
    $("saved").className = "error";
  }

  function problemText(body) {
    return (body && (body.detail || body.title)) || t("Something went wrong");
  }

  async function save() {
    $("saved").textContent = "";
    const { status, body } = await api(clinicPath("/settings"), { method: "PUT", body: JSON.stringify(state.settings) });
    if (status !== 200) { showErrors(body); return; }
    state.settings = body;
    show("settings");
    $("saved").textContent = t("Saved");
    $("saved").className = "ok";
  }

  /* ---- staff tokens ---------------------------------------------------------------------------- */

  async function renderStaff() {
    const { body } = await api(clinicPath("/staff"));
    const admins = state.settings.admins;
    const role = el("select", { id: "new-role", "aria-label": t("Role") },
      el("option", { value: "admin" }, t("role:admin")), el("option", { value: "manager" }, t("role:manager")));
    const name = el("input", { id: "new-name", required: true, "aria-label": t("Name"), placeholder: t("Name") });
    const adminId = el("select", { id: "new-admin-id", "aria-label": t("Administrator in the MIS") },
      el("option", { value: "" }, "—"), Object.entries(admins).map(([id, n]) => el("option", { value: id }, `${n} (${id})`)));
    adminId.addEventListener("change", () => { if (adminId.value && !name.value) name.value = admins[adminId.value]; });
    const issued = el("div", { id: "issued", role: "status" });
    const form = el("form", { class: "row", onsubmit: async (e) => {
      e.preventDefault();
      const { status, body: token } = await api(clinicPath("/staff"), { method: "POST", body: JSON.stringify({
        role: role.value, name: name.value.trim(), admin_id: adminId.value || null }) });
      if (status !== 201) { issued.replaceChildren(el("p", { class: "error" }, problemText(token))); return; }
      await renderStaff();
      $("issued").replaceChildren(...loginLink(token.name, token.login_link),
        el("p", {}, t("Their key, to sign in when the link is used up (keep it like a password; it is shown only once):")),
        el("input", { class: "link-out", readonly: true, value: token.token, id: "staff-key", "aria-label": t("Staff token") }));
    } }, role, adminId, name, el("button", { type: "submit", class: "primary" }, t("Issue a token")));
    $("app").replaceChildren(el("section", { class: "panel" }, el("h1", {}, t("Staff tokens")),
      el("p", { class: "muted" }, t("Each person gets their own token; revoke it when they leave.")), form, issued),
      el("section", { class: "panel table" }, el("table", { id: "staff" },
        el("thead", {}, el("tr", {}, [t("Name"), t("Role"), t("Administrator in the MIS"), t("Issued"), ""].map((h) => el("th", {}, h)))),
        el("tbody", {}, body.staff.map((s) => el("tr", { dataset: { tokenId: s.token_id } }, el("td", {}, s.name || "—"),
          el("td", {}, t(`role:${s.role}`)), el("td", {}, s.admin_id ? (admins[s.admin_id] ? `${admins[s.admin_id]} (${s.admin_id})` : s.admin_id) : "—"),
          el("td", {}, s.created_at ? when(s.created_at) : ""),
          el("td", {}, el("button", { type: "button", class: "link", onclick: async () => {
            const { status, body: link } = await api(clinicPath(`/staff/${encodeURIComponent(s.token_id)}/login-link`),
                                                     { method: "POST" });
            if (status === 201) $("issued").replaceChildren(...loginLink(s.name || "", link));
          } }, t("New login link")), " ", el("button", { type: "button", class: "link", onclick: async () => {
            if (!window.confirm(t("revoke_confirm",
                                  { name: s.name || t(`role:${s.role}`) }))) return;
            const { status, body: answer } = await api(clinicPath(`/staff/${encodeURIComponent(s.token_id)}`),
                                                      { method: "DELETE" });
            if (status !== 200) {
              $("issued").replaceChildren(el("p", { class: "error", role: "alert" },
                answer && answer.code ? t(`error:${answer.code}`) : problemText(answer)));
              return;
            }
            renderStaff();
          } }, t("Revoke")))))))));
  }

  /* A one-time link (a code, never the key): it works once, for a few minutes. */
  function loginLink(name, link) {
    return [el("p", {}, t("Give this login link to %(name)s: it works once, within %(minutes)s minutes.",
                          { name, minutes: Math.round((new Date(link.expires_at) - Date.now()) / 60000) })),
            el("input", { class: "link-out", readonly: true, value: link.url, id: "login-link", "aria-label": t("Login link") })];
  }

  /* ---- start -------------------------------------------------------------------------------- */

  for (const button of document.querySelectorAll("#nav button")) button.addEventListener("click", () => show(button.dataset.view));
  window.ClinicFlow.start({
    async signedIn(me) {
      if (me.role !== "manager") {  // administrators work at the desk; the API refuses them the console's routes
        location.replace(`/desk${location.search}`);
        return;
      }
      $("app").hidden = false;
      $("nav").hidden = false;
      const { body: settings } = await api(clinicPath("/settings"));
      state.settings = settings;
      show(state.view);
    },
    signedOut() {
      $("app").hidden = true;
      $("nav").hidden = true;
    },
  });
})();
