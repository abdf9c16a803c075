/* The console's Кампании: win-back campaigns from the lost-patient segments, and their results.
   Plain JavaScript; data reaches the page as text nodes only. Shared helpers: console.js. */
(() => {
  "use strict";
  const { t, $, el, api, clinicPath } = window.ClinicFlow;
  const C = window.ClinicFlow.console;
  const SEGMENTS = ["lapsed", "plan_unfinished", "one_visit", "declined_plan"];  // what a campaign may win back
  const MOVES = { active: ["pause", "finish"], paused: ["resume", "finish"], finished: [] };
  const COLUMNS = ["patients", "contacted", "reached", "booked", "came"];
  const page = { asked: 0 };

  const roi = (r) => (r === null || r === undefined ? "—" : C.pct(Number(r) * 100));
  const problem = (body) => ((body && body.errors) || []).map((e) => C.fieldMessage(e)).join("; ") || C.problemText(body);

  async function render() {
    const { body: list } = await api(clinicPath("/campaigns"));
    const { body: counts } = await api(clinicPath("/segments"));
    if (C.state.view !== "campaigns") return;
    $("app").replaceChildren(
      el("section", { class: "panel" }, el("h1", {}, t("cmp:title")), el("p", { class: "muted" }, t("cmp:lead")),
        el("p", { id: "campaign-status", role: "status" }), campaignTable(list.campaigns)),
      el("section", { class: "panel", id: "campaign-details", hidden: true }),
      newCampaign(),
      el("section", { class: "panel", id: "segments" }, el("h2", {}, t("cmp:segments")),
        el("div", { class: "scroll" }, el("table", {}, el("tbody", {}, Object.entries(counts.segments).map(([name, n]) =>
          el("tr", { dataset: { segment: name } }, el("td", {}, t(`seg:${name}`)), el("td", { class: "num" }, C.number(n)),
            el("td", {}, el("button", { type: "button", class: "link", onclick: () => patients(name) }, t("cmp:open_list")),
              SEGMENTS.includes(name) ? el("button", { type: "button", class: "link", onclick: () => {
                $("cmp-segment").value = name; stake(); $("cmp-name").focus(); } }, t("cmp:from_segment")) : null)))))),
        el("div", { id: "segment-patients" })));
  }

  function campaignTable(campaigns) {
    if (!campaigns.length) return el("p", { class: "muted" }, t("cmp:none"));
    return el("div", { class: "scroll" }, el("table", { id: "campaigns" },
      el("thead", {}, el("tr", {}, [t("cmp:name"), t("cmp:status"), ...COLUMNS.map((c) => t(`cmp:${c}`)), t("cmp:revenue"),
        t("cmp:costs"), t("cmp:roi"), ""].map((h, i) => el("th", { class: i > 1 && i < 10 ? "num" : null }, h)))),
      el("tbody", {}, campaigns.map((c) => el("tr", { dataset: { campaign: c.campaign_id } },
        el("td", {}, c.name), el("td", {}, t(`cmp:status:${c.status}`)),
        COLUMNS.map((k) => el("td", { class: "num" }, C.number(c[k]))),
        el("td", { class: "num" }, C.money(c.revenue)), el("td", { class: "num" }, C.money(c.cost)),
        el("td", { class: "num" }, roi(c.roi)),
        el("td", {}, el("button", { type: "button", class: "link", onclick: () => details(c.campaign_id) }, t("cmp:details")),
          c.status === "active" ? el("button", { type: "button", class: "link", onclick: () => act(c, "run") }, t("cmp:run")) : null,
          MOVES[c.status].map((m) => el("button", { type: "button", class: "link", onclick: () => act(c, m) }, t(`cmp:${m}`)))))))));
  }

  async function act(campaign, move) {
    if (move === "finish" && !window.confirm(t("cmp:finish_confirm", { name: campaign.name }))) return;
    const { status, body } = await api(clinicPath(`/campaigns/${encodeURIComponent(campaign.campaign_id)}/${move}`),
                                       { method: "POST" });
    if (status >= 300) { $("campaign-status").className = "error"; $("campaign-status").textContent = problem(body); return; }
    await render();
    $("campaign-status").className = "ok";
    $("campaign-status").textContent = move === "run" ? t("cmp:run_queued") : t("Saved");
  }

  async function details(id) {
    const { body: c } = await api(clinicPath(`/campaigns/${encodeURIComponent(id)}`));
    const admins = C.state.settings.admins || {};
    const tiles = [[t("cmp:patients"), C.number(c.patients)], [t("cmp:contacted"), C.number(c.contacted)],
      [t("cmp:reached"), C.number(c.reached)], [t("cmp:booked"), C.number(c.booked)], [t("cmp:came"), C.number(c.came)],
      [t("cmp:revenue"), C.money(c.revenue)], [t("cmp:costs"), C.money(c.cost)], [t("cmp:roi"), roi(c.roi)]];
    const max = Math.max(1, ...c.by_day.map((d) => d.contacts));
    const target = $("campaign-details");
    target.hidden = false;
    target.replaceChildren(el("h2", {}, `${t("cmp:details")}: ${c.name}`),
      el("div", { class: "tiles" }, tiles.map(([label, value]) => el("div", { class: value.length > 9 ? "tile wide" : "tile" },
        el("div", { class: "tile-value" }, value), el("div", { class: "tile-label" }, label)))),
      el("figure", { class: "chart", id: "campaign-days" }, el("figcaption", {}, t("cmp:by_day")),
        el("div", { class: "vbars" }, c.by_day.map((d) => el("span", { class: "vbar",
          title: `${C.day(d.date)}: ${C.number(d.contacts)} · ${t("cmp:booked")} ${C.number(d.booked)} · ${C.money(d.revenue)}`,
          dataset: { h: String(d.contacts / max) } }))),
        c.by_day.length ? el("div", { class: "axis" }, el("span", {}, C.day(c.by_day[0].date)),
          el("span", {}, C.day(c.by_day[c.by_day.length - 1].date))) : el("p", { class: "muted" }, t("Nothing in this period"))),
      el("h3", {}, t("cmp:per_admin")),
      Object.keys(c.by_admin).length === 0 ? el("p", { class: "muted" }, t("Nothing in this period")) : el("div", { class: "scroll" }, el("table", { id: "campaign-admins" },
        el("thead", {}, el("tr", {}, [t("cmp:admin"), t("cmp:reached"), t("cmp:booked"), t("cmp:came"), t("cmp:revenue")]
          .map((h, i) => el("th", { class: i ? "num" : null }, h)))),
        el("tbody", {}, Object.entries(c.by_admin).map(([admin, a]) => el("tr", {},
          el("td", {}, admin === "none" ? t("cmp:admin_none") : (admins[admin] || admin)),
          el("td", { class: "num" }, C.number(a.reached)), el("td", { class: "num" }, C.number(a.booked)),
          el("td", { class: "num" }, C.number(a.came)), el("td", { class: "num" }, C.money(a.revenue))))))));
    target.scrollIntoView({ block: "start" });
  }

  async function patients(name) {
    const { body } = await api(clinicPath(`/segments/${name}`));
    $("segment-patients").replaceChildren(el("h3", {}, `${t(`seg:${name}`)} · ${C.number(body.count)}`),
      el("div", { class: "scroll" }, el("table", { id: "segment-list" },
        el("thead", {}, el("tr", {}, [t("Name"), t("cmp:phone"), t("cmp:last_visit"), t("cmp:value")]
          .map((h, i) => el("th", { class: i === 3 ? "num" : null }, h)))),
        el("tbody", {}, body.patients.map((p) => el("tr", {}, el("td", {}, p.patient.name || p.patient.id),
          el("td", {}, p.patient.phone || "—"), el("td", {}, p.last_visit ? C.day(p.last_visit) : "—"),
          el("td", { class: "num" }, C.money(p.value))))))));
  }

  /* ---- a new campaign: whom (with how many and what is at stake, before saving), how, at what cost ---- */

  function field(path, label, input) {
    return el("div", { class: "field", dataset: { field: path } }, el("label", {}, label, input),
      el("span", { class: "field-error", role: "alert" }));
  }

  function stepRow(step, steps, draw) {
    const action = el("select", { "aria-label": t("Action"), onchange: (e) => {
      step.action = e.target.value;
      if (step.action === "call") { delete step.channel; step.line = step.line || "city"; }
      else { delete step.line; step.channel = step.channel || "preferred"; }
      draw();
    } }, el("option", { value: "call" }, t("Call")), el("option", { value: "message" }, t("Message")));
    action.value = step.action;
    const how = step.action === "call"
      ? el("select", { "aria-label": t("Line"), onchange: (e) => { step.line = e.target.value; } },
          ["city", "mobile"].map((l) => el("option", { value: l }, t(`line:${l}`))))
      : el("select", { "aria-label": t("Channel"), onchange: (e) => { step.channel = e.target.value; } },
          ["preferred", "whatsapp", "telegram", "sms", "email"].map((c) => el("option", { value: c }, t(`msg:${c}`))));
    how.value = step.action === "call" ? step.line : step.channel;
    const delay = el("input", { type: "number", min: 0, class: "delay", value: step.delay_minutes,
      "aria-label": t("after the previous step, min"), onchange: (e) => { step.delay_minutes = Number(e.target.value); } });
    return el("li", { class: "step" }, action, how, el("label", {}, delay, t("after the previous step, min")),
      el("button", { type: "button", onclick: () => { steps.splice(steps.indexOf(step), 1); draw(); } }, t("Remove")));
  }

  function newCampaign() {
    const recall = C.state.settings.sequences.recall.steps;
    const steps = JSON.parse(JSON.stringify(recall));
    const list = el("ol", { class: "steps", id: "cmp-steps" });
    const draw = () => list.replaceChildren(...steps.map((s) => stepRow(s, steps, draw)));
    draw();
    const segment = el("select", { id: "cmp-segment", onchange: () => stake() },
      SEGMENTS.map((s) => el("option", { value: s }, t(`seg:${s}`))));
    const months = el("input", { id: "cmp-months", type: "number", min: 1, max: 120, value: 6, onchange: () => stake() });
    const form = el("form", { id: "new-campaign", onsubmit: async (e) => {
      e.preventDefault();
      form.querySelectorAll(".field-error").forEach((n) => { n.textContent = ""; });
      form.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
      const body = { name: $("cmp-name").value.trim(), segment: { name: segment.value, months: Number(months.value) },
        steps, daily_limit: Number($("cmp-limit").value), offer: $("cmp-offer").value.trim(),
        cost_per_contact: $("cmp-cost").value.replace(/[\s\u00a0]/g, "").replace(",", ".") || "0" };
      const { status, body: answer } = await api(clinicPath("/campaigns"), { method: "POST", body: JSON.stringify(body) });
      if (status !== 201) {
        for (const error of (answer && answer.errors) || []) {
          const box = [...form.querySelectorAll("[data-field]")].filter((n) => error.field === n.dataset.field
            || error.field.startsWith(`${n.dataset.field}.`)).sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
          if (box) { box.classList.add("invalid"); box.querySelector(".field-error").textContent = C.fieldMessage(error); }
        }
        $("cmp-saved").className = "error";
        $("cmp-saved").textContent = answer && answer.errors ? t("Check the marked fields") : C.problemText(answer);
        return;
      }
      await render();
      $("campaign-status").className = "ok";
      $("campaign-status").textContent = t("cmp:created");
    } },
      el("div", { class: "grid2" },
        field("name", t("cmp:name"), el("input", { id: "cmp-name", required: true, maxlength: 200 })),
        field("segment.name", t("cmp:segment"), segment),
        field("segment.months", t("cmp:months"), months),
        field("daily_limit", t("cmp:daily_limit"), el("input", { id: "cmp-limit", type: "number", value: 30 })),
        field("cost_per_contact", t("cmp:cost"), el("input", { id: "cmp-cost", inputmode: "decimal", value: "0" }))),
      el("p", { class: "stake", id: "cmp-stake", role: "status" }),
      field("offer", t("cmp:offer"), el("textarea", { id: "cmp-offer", rows: 2, maxlength: 1000 })),
      el("div", { dataset: { field: "steps" } }, el("h3", {}, t("cmp:ladder")), list,
        el("button", { type: "button", onclick: () => { steps.push({ action: "call", line: "city", delay_minutes: 1440 }); draw(); } },
          t("Add step")), el("span", { class: "field-error", role: "alert" })),
      el("div", { class: "row" }, el("button", { type: "submit", class: "primary" }, t("cmp:create")),
        el("span", { id: "cmp-saved", role: "status" })));
    setTimeout(stake, 0);
    return el("section", { class: "panel" }, el("h2", {}, t("cmp:new")), form);
  }

  /* How many patients the segment holds now and what their unfinished plans are worth: before saving. */
  async function stake() {
    const name = $("cmp-segment").value;
    $("cmp-months").closest(".field").hidden = name !== "lapsed";
    const asked = ++page.asked;
    const { status, body } = await api(clinicPath(`/segments/${name}?months=${encodeURIComponent($("cmp-months").value)}`));
    if (asked !== page.asked || !$("cmp-stake")) return;
    $("cmp-stake").textContent = status === 200 ? t("cmp:at_stake", { count: `${t("cmp:patients")}: ${C.number(body.count)}`,
                                                                      value: C.money(body.value) }) : problem(body);
  }

  C.register("campaigns", render);
})();
