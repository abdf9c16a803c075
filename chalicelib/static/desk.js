/* ClinicFlow task desk. Plain JavaScript: no build step, no third-party code.
   Every piece of data reaches the page as text nodes, never as HTML. */
(() => {
  "use strict";
  const { LANG, session, t, $, el, api, clinicPath } = window.ClinicFlow;
  const REFRESH_MS = 30000;  // and at once after every outcome; never while the tab is hidden
  const COLUMNS = [
    ["missed_calls", "Missed calls"], ["new_leads", "New leads"], ["recalls", "Today's recalls"],
    ["confirmations", "Confirmations"], ["overdue", "Overdue"], ["reschedule", "Reschedule"], ["other", "Other"],
  ];
  const state = { tasks: [], forms: {}, busy: false, timer: null };

  function time(iso, withDay) {
    if (!iso) return "";
    const options = { hour: "2-digit", minute: "2-digit", timeZone: session.me && session.me.timezone || undefined };
    if (withDay) Object.assign(options, { day: "numeric", month: "short" });
    if (withDay && new Date(iso).getFullYear() !== new Date().getFullYear()) options.year = "numeric";
    return new Intl.DateTimeFormat(LANG, options).format(new Date(iso));
  }

  function money(amount) {
    return new Intl.NumberFormat(LANG, { style: "currency", currency: session.me && session.me.currency || "RUB",
                                         maximumFractionDigits: 0 }).format(Number(amount));
  }

  /* ---- the board --------------------------------------------------------------------------- */

  async function refresh() {
    if (state.busy || Object.keys(state.forms).length) return;  // never wipe what someone is typing
    try {
      const { status, body } = await api(clinicPath("/tasks?status=open"));
      if (status !== 200) throw new Error(String(status));
      state.tasks = body;
      render();
      $("updated").textContent = `${t("Updated")} ${time(new Date().toISOString())}`;
    } catch (error) {
      if (String(error.message) !== "unauthorized") $("updated").textContent = t("Offline — retrying");
    }
  }

  function render() {
    const board = $("board");
    const byColumn = Object.fromEntries(COLUMNS.map(([key]) => [key, []]));
    for (const task of state.tasks) (byColumn[task.column] || byColumn.other).push(task);
    board.replaceChildren(...COLUMNS.map(([key, title]) => column(key, title, byColumn[key])));
    const missed = byColumn.missed_calls.length;
    const leads = byColumn.new_leads.length;
    const goal = $("goal");
    goal.className = `goal ${missed + leads ? "todo" : "done"}`;
    goal.textContent = missed + leads
      ? `${t("Goal of the day: no missed calls or new leads left")} — ${t("Left: %(missed)s missed, %(leads)s new", { missed, leads })}`
      : t("Goal reached: every missed call and new lead is handled");
  }

  function column(key, title, tasks) {
    return el("section", { class: "column", dataset: { column: key } },
      el("h2", {}, t(title), el("span", { class: `count${tasks.length ? " nonzero" : ""}` }, tasks.length)),
      tasks.length ? tasks.map(card) : el("div", { class: "empty" }, t("No tasks here")));
  }

  function card(task) {
    const p = task.patient;
    const c = task.context || {};
    const facts = [];
    if (task.call_back) facts.push(t("Agreed call back"));
    else facts.push(t("Attempt %(n)s of %(m)s", { n: task.attempt, m: task.attempts_total }));
    if (task.preferred_time) facts.push(`${t("Prefers")}: ${t(task.preferred_time)}`);
    if (c.doctor_id) facts.push(`${t("Doctor")}: ${(session.me.doctors || {})[c.doctor_id] || c.doctor_id}`);
    if (c.at) facts.push(`${t("Appointment")}: ${time(c.at, true)}`);
    if (c.last_visit) facts.push(`${t("Last visit")}: ${time(c.last_visit, true).split(",")[0]}`);
    if (c.value) facts.push(`${t("At stake")}: ${money(c.value)}`);
    if (c.reason) facts.push(`${t("Reason given")}: ${c.reason}`);
    if (c.interest) facts.push(`${t("Interest")}: ${c.interest}`);
    if (c.calls > 1) facts.push(`${t("Calls")}: ${c.calls}`);
    if (c.rating) facts.push(`${t("Rating")}: ${c.rating}/5`);
    const lineName = task.line === "mobile" ? t("mobile line") : t("city line");
    return el("article", { class: `card${task.overdue ? " overdue" : ""}`,
                           dataset: { taskId: task.id, column: task.column } },
      el("div", { class: "card-head" },
        el("span", { class: "scenario" }, t(`scenario:${task.scenario}`)),
        task.kind === "review" ? el("span", { class: "badge manager" }, t("for the manager")) : null,
        el("span", { class: "due" }, `${t("Due")} ${time(task.due_at)}`,
          task.overdue ? el("span", { class: "badge late" }, ` ${t("overdue")}`) : null)),
      el("div", { class: "patient" }, p.name || (p.household.length ? "" : t("Patient"))),
      p.household.length ? el("div", { class: "household" }, `${t("Shared phone:")} ${p.household.join(", ")}`) : null,
      p.phone ? el("a", { class: "phone", href: `tel:${p.phone}` }, p.phone_display || p.phone) : null,
      (c.wrong_numbers || []).length ? el("div", { class: "badge late" },
                                          `${t("Wrong number:")} ${c.wrong_numbers.join(", ")}`) : null,
      !task.line_number && c.address ? el("div", { class: "line" }, `${t("Answer in the chat")}: ${c.channel || ""}`)
                                     : null,
      task.line_number ? el("div", { class: "line" }, `${t("Call from")} `, el("b", {}, lineName),
                            ` (${task.line_display || task.line_number})`) : null,
      el("div", { class: "meta" }, facts.map((f) => el("span", {}, f))),
      task.hint ? el("div", { class: "hint" }, task.hint) : null,
      historyOf(task),
      actions(task),
      state.forms[task.id] ? form(task, state.forms[task.id]) : null,
      el("p", { class: "error", role: "alert" }));
  }

  function historyOf(task) {
    const details = el("details", { class: "history" }, el("summary", {}, t("History")), el("ol"));
    details.addEventListener("toggle", async () => {
      if (!details.open || !task.patient.id) return;
      const { status, body } = await api(clinicPath(`/patients/${encodeURIComponent(task.patient.id)}`));
      if (status !== 200) return;
      details.querySelector("ol").replaceChildren(...body.timeline.slice(-15).map((entry) =>
        el("li", {}, `${time(entry.at, true)} — ${entry.kind}${entry.detail.outcome ? `: ${entry.detail.outcome}` : ""}`)));
    });
    for (const entry of task.history) {
      details.querySelector("ol").append(el("li", {}, `${time(entry.at, true)} — ${entry.kind} ${entry.detail || ""}`));
    }
    return details;
  }

  function actions(task) {
    const button = (label, cls, onclick) => el("button", { type: "button", class: cls, onclick }, t(label));
    return el("div", { class: "actions" },
      button("Patient booked", "booked", () => send(task, { outcome: "booked" })),
      button("No answer", "no-answer", () => send(task, { outcome: "no_answer" })),
      button("Declined", "declined", () => openForm(task, "declined")),
      button("Wrong number", "wrong-number", () => send(task, { outcome: "wrong_number" })),
      button("Call back", "call-back", () => openForm(task, "call_back")),
      task.assignee ? el("span", { class: "taken" }, `${t("Taken by")} ${task.assignee}`)
                    : button("Take", "take", () => take(task)));
  }

  function form(task, kind) {
    const cancel = el("button", { type: "button", onclick: () => closeForm(task) }, t("Cancel"));
    if (kind === "declined") {
      // the clinic's own list (settings.reasons.lost): the code goes to the API, the comment beside it
      const reason = el("select", { name: "reason" }, el("option", { value: "" }, t("Choose a reason")),
        (session.me.reasons || []).map((r) => el("option", { value: r.code }, r.name)));
      const details = el("input", { name: "details", type: "text", placeholder: t("Details (optional)") });
      const save = el("button", { type: "button", class: "primary", onclick: () => {
        const comment = details.value.trim();
        send(task, { outcome: "declined", reason: reason.value, ...(comment ? { comment } : {}) });
      } }, t("Save"));
      return el("div", { class: "form" }, el("label", {}, t("Reason")), reason, details, el("div", { class: "row" }, save, cancel));
    }
    const when = el("input", { name: "call_back_at", type: "datetime-local" });
    const quick = (label, date) => el("button", { type: "button", onclick: () => { when.value = localInput(date); } }, t(label));
    const inHour = new Date(Date.now() + 3600e3);
    const tomorrow = new Date(); tomorrow.setDate(tomorrow.getDate() + 1); tomorrow.setHours(10, 0, 0, 0);
    const save = el("button", { type: "button", class: "primary", onclick: () => {
      send(task, { outcome: "call_back", call_back_at: when.value ? new Date(when.value).toISOString() : null });
    } }, t("Save"));
    return el("div", { class: "form" }, el("label", {}, t("When to call back")), when,
      el("div", { class: "row" }, quick("In an hour", inHour), quick("Tomorrow morning", tomorrow)),
      el("div", { class: "row" }, save, cancel));
  }

  function localInput(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  function openForm(task, kind) { state.forms = { [task.id]: kind }; render(); }
  function closeForm(task) { delete state.forms[task.id]; render(); }

  function cardOf(task) { return document.querySelector(`[data-task-id="${CSS.escape(task.id)}"]`); }

  function explain(status, body) {
    const fields = (body && body.errors || []).map((e) => e.field);
    if (fields.includes("reason")) return t("A declined patient needs a reason");
    if (fields.includes("call_back_at")) return t("Say when to call back");
    if (status === 409 && body && body.assignee) return t("%(name)s is already working on this task", { name: body.assignee });
    if (status === 409) return t("This task is already closed");
    return t("Could not save: %(error)s", { error: (body && (body.detail || body.title)) || status });
  }

  async function send(task, outcome) {
    state.busy = true;
    try {
      const { status, body } = await api(clinicPath(`/tasks/${encodeURIComponent(task.id)}/outcome`),
                                         { method: "POST", body: JSON.stringify(outcome) });
      if (status === 200) {
        delete state.forms[task.id];
        state.tasks = state.tasks.filter((x) => x.id !== task.id);
        render();
        setTimeout(refresh, 2000);  // the ladder's next step usually appears within seconds
        setTimeout(refresh, 6000);
      } else {
        const node = cardOf(task);
        if (node) node.querySelector(".error").textContent = explain(status, body);
      }
    } finally {
      state.busy = false;
    }
  }

  async function take(task) {
    const { status, body } = await api(clinicPath(`/tasks/${encodeURIComponent(task.id)}/assign`),
                                       { method: "POST", body: "{}" });
    if (status === 200) {
      Object.assign(task, body);
      render();
    } else {  // a colleague took it first (409), or it closed meanwhile
      const node = cardOf(task);
      if (node) node.querySelector(".error").textContent = explain(status, body);
    }
  }

  /* ---- start -------------------------------------------------------------------------------- */

  window.ClinicFlow.start({
    async signedIn() {
      $("board").hidden = false;
      await refresh();
      clearInterval(state.timer);
      state.timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
    },
    signedOut() {
      clearInterval(state.timer);
      $("board").hidden = true;
      $("goal").textContent = "";
    },
  });
})();
