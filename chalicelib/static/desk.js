/* ClinicFlow task desk. Plain JavaScript: no build step, no third-party code.
   Every piece of data reaches the page as text nodes, never as HTML.
   One queue by urgency (late, due now, later), filter chips per kind, outcomes held 10 s on the server for
   «Отменить», the patient's thread with a reply box, «Позвонить» through the clinic's PBX. */
(() => {
  "use strict";
  const { LANG, session, t, $, el, api, clinicPath } = window.ClinicFlow;
  const REFRESH_MS = 30000;  // and at once after every outcome; never while the tab is hidden
  const UNDO_MS = 10000;  // the server holds an outcome this long (tasks.UNDO) before it counts
  const KINDS = [
    ["missed_calls", "Missed calls"], ["new_leads", "New leads"], ["conversations", "Conversations"],
    ["recalls", "Today's recalls"], ["confirmations", "Confirmations"], ["reschedule", "Reschedule"],
    ["other", "Other"],
  ];
  const OUTCOMES = {
    booked: "Patient booked", no_answer: "No answer", declined: "Declined", wrong_number: "Wrong number",
    call_back: "Call back", answered: "Replied", needs_call: "Needs a call",
  };
  const HISTORY = {
    "task.created": "Task created", "task.outcome": "Outcome", "task.linked": "Task linked to the patient",
    "message.sent": "Message sent", "message.received": "Patient wrote", "message.failed": "Message not delivered",
    "message.skipped": "Message not sent (no consent or channel)", "message.status": "Message status",
    "sequence.started": "Contact plan started", "sequence.stopped": "Contact plan stopped",
    "call.missed": "Missed call", "call.completed": "Call", "lead.created": "New inquiry", "lead.lost": "Inquiry lost",
    "appointment.created": "Appointment booked", "appointment.cancelled": "Appointment cancelled",
    "appointment.rescheduled": "Appointment moved", "appointment.confirmed": "Appointment confirmed",
    "appointment.no_show": "Did not come", "visit.completed": "Visit", "patient.upserted": "Patient details updated",
    "patient.preferences": "Patient's choices changed", "assigned": "Taken by", "note": "Note",
    "no_answer": "No answer", "call.requested": "Called through the PBX", "undone": "Outcome undone",
    "dropped": "Outcome not applied", "escalated": "Sent to the manager",
    "message": "Patient wrote", "reply": "Message sent",  // a chat's own thread, kept on its task
  };
  const QUICK = [
    ["Confirm", "Hello! Your appointment is confirmed. See you soon."],
    ["Offer times", "Hello! We can offer these times: "],
    ["We will call you", "Hello! We will call you back shortly."],
  ];
  const UNSENT = "cf_desk_unsent";  // an outcome a refused session could not save, kept in this tab
  const OPEN = "cf_desk_open";  // the cards whose «История» is open (kept across refreshes and reloads)
  const state = { tasks: [], forms: {}, busy: false, timer: null, filter: "all", calls: {}, held: {},
                  threads: {}, drafts: {}, open: new Set(JSON.parse(sessionStorage.getItem(OPEN) || "[]")) };

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

  function span(minutes) {  // "25 мин", "3 ч 10 мин", "2 дн."
    const m = Math.max(1, Math.round(minutes));
    const unit = (value, u) => new Intl.NumberFormat(LANG, { style: "unit", unit: u, unitDisplay: "short" }).format(value);
    if (m < 60) return unit(m, "minute");
    if (m < 24 * 60) return `${unit(Math.floor(m / 60), "hour")}${m % 60 ? ` ${unit(m % 60, "minute")}` : ""}`;
    return unit(Math.floor(m / 1440), "day");
  }

  function seconds(s) { return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; }

  const kindOf = (task) => (task.kind === "conversation" || task.kind === "reply" ? "conversations"
    : (task.context && task.context.column) || "other");

  /* Overdue first (the longest late on top), then due now by their SLA, then the rest by when they are due. */
  function urgency(task, now) {
    const due = Date.parse(task.due_at), sla = Date.parse(task.overdue_at || task.due_at);
    if (task.overdue) return [0, sla];
    if (due <= now) return [1, sla];
    return [2, due];
  }

  function ordered(tasks) {
    const now = Date.now();
    return tasks.map((task) => ({ task, rank: urgency(task, now) }))
      .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]).map((x) => x.task);
  }

  /* ---- the queue --------------------------------------------------------------------------- */

  async function refresh() {
    if (state.busy || Object.keys(state.forms).length) return;  // never wipe what someone is typing
    try {
      const { status, body } = await api(clinicPath("/tasks?status=open"));
      if (status !== 200) throw new Error(String(status));
      state.tasks = body;
      for (const task of body) {  // an outcome still held (a reload within its 10 s): its «Отменить» again
        if (task.pending && !state.held[task.id] && Date.parse(task.pending_until) > Date.now()) hold(task, task.pending);
      }
      render();
      $("updated").textContent = `${t("Updated")} ${time(new Date().toISOString())}`;
    } catch (error) {
      if (String(error.message) !== "unauthorized") $("updated").textContent = t("Offline — retrying");
    }
  }

  function visible() {
    const shown = state.tasks.filter((x) => !x.pending && !state.held[x.id]);
    for (const id of Object.keys(state.calls)) {  // a card on a call stays until its outcome is saved
      const call = state.calls[id];
      if (call.task && !shown.some((x) => x.id === id) && !state.held[id]) shown.push(call.task);
    }
    return shown;
  }

  function render() {
    const tasks = ordered(visible());
    const counts = { all: tasks.length, overdue: tasks.filter((x) => x.overdue).length };
    for (const task of tasks) counts[kindOf(task)] = (counts[kindOf(task)] || 0) + 1;
    if (state.filter !== "all" && !counts[state.filter]) state.filter = "all";
    chips(counts);
    const shown = tasks.filter((x) => state.filter === "all" || (state.filter === "overdue" ? x.overdue
                                                                : kindOf(x) === state.filter));
    const groups = [["late", "Overdue", shown.filter((x) => urgency(x, Date.now())[0] === 0)],
                    ["now", "Due now", shown.filter((x) => urgency(x, Date.now())[0] === 1)],
                    ["later", "Later", shown.filter((x) => urgency(x, Date.now())[0] === 2)]];
    const board = $("board");
    board.replaceChildren(...groups.filter(([, , list]) => list.length).flatMap(([key, title, list]) => [
      el("h2", { class: `group ${key}` }, t(title), el("span", { class: "count" }, list.length)),
      ...list.map(card)]));
    if (!shown.length) board.append(el("div", { class: "empty" }, t("No tasks here")));
    goal(tasks);
  }

  function goal(tasks) {
    const missed = tasks.filter((x) => kindOf(x) === "missed_calls").length;
    const leads = tasks.filter((x) => kindOf(x) === "new_leads").length;
    const node = $("goal");
    node.className = `goal ${missed + leads ? "todo" : "done"}`;
    node.textContent = missed + leads
      ? `${t("Goal of the day: no missed calls or new leads left")} — ${t("Left: %(missed)s missed, %(leads)s new", { missed, leads })}`
      : t("Goal reached: every missed call and new lead is handled");
  }

  function chips(counts) {
    const chip = (key, label) => el("button", {
      type: "button", class: `chip${state.filter === key ? " on" : ""}${key === "overdue" ? " late" : ""}`,
      dataset: { kind: key }, "aria-pressed": String(state.filter === key),
      onclick: () => { state.filter = key; render(); } }, t(label), el("span", { class: "n" }, counts[key] || 0));
    $("chips").replaceChildren(chip("all", "All"), ...(counts.overdue ? [chip("overdue", "Overdue")] : []),
      ...KINDS.filter(([key]) => counts[key]).map(([key, label]) => chip(key, label)));
  }

  function card(task) {
    const p = task.patient;
    const c = task.context || {};
    const facts = [];
    if (task.call_back) facts.push(t("Agreed call back"));
    else if (task.kind === "call") facts.push(t("Attempt %(n)s of %(m)s", { n: task.attempt, m: task.attempts_total }));
    if (task.preferred_time) facts.push(`${t("Prefers")}: ${t(task.preferred_time)}`);
    if (c.doctor_id) facts.push(`${t("Doctor")}: ${(session.me.doctors || {})[c.doctor_id] || c.doctor_id}`);
    if (c.at) facts.push(`${t("Appointment")}: ${time(c.at, true)}`);
    if (c.last_visit) facts.push(`${t("Last visit")}: ${time(c.last_visit, true).split(",")[0]}`);
    if (c.value) facts.push(`${t("At stake")}: ${money(c.value)}`);
    if (c.reason) facts.push(`${t("Reason given")}: ${c.reason}`);
    if (c.interest) facts.push(`${t("Interest")}: ${c.interest}`);
    if (c.calls > 1) facts.push(`${t("Calls")}: ${c.calls}`);
    if (c.rating) facts.push(`${t("Rating")}: ${c.rating}/5`);
    const late = (Date.now() - Date.parse(task.overdue_at)) / 60000;
    const lineName = task.line === "mobile" ? t("mobile line") : t("city line");
    const call = state.calls[task.id];
    const talk = kindOf(task) === "conversations";
    return el("article", { class: `card${task.overdue ? " overdue" : ""}`,
                           dataset: { taskId: task.id, column: task.column, kind: kindOf(task) } },
      el("div", { class: "card-head" },
        el("span", { class: "scenario" }, t(`scenario:${task.scenario}`)),
        task.kind === "review" ? el("span", { class: "badge manager" }, t("for the manager")) : null,
        task.overdue ? el("span", { class: "badge late" }, t("Late by %(time)s", { time: span(late) }))
                     : el("span", { class: "due" }, `${t("Due")} ${time(task.due_at)}`)),
      el("div", { class: "who" },
        el("span", { class: "patient" }, p.name || (p.household.length ? "" : t("Patient"))),
        p.phone ? el("a", { class: "phone", href: `tel:${p.phone}` }, p.phone_display || p.phone) : null,
        callButton(task)),
      p.household.length ? el("div", { class: "household" }, `${t("Shared phone:")} ${p.household.join(", ")}`) : null,
      (c.wrong_numbers || []).length ? el("div", { class: "badge late" },
                                          `${t("Wrong number:")} ${c.wrong_numbers.join(", ")}`) : null,
      task.line_number && !talk ? el("div", { class: "line" }, `${t("Call from")} `, el("b", {}, lineName),
                            ` (${task.line_display || task.line_number})`) : null,
      facts.length ? el("div", { class: "meta" }, facts.map((f) => el("span", {}, f))) : null,
      task.hint && !(talk && p.id) ? el("div", { class: "hint" }, task.hint) : null,
      call ? callState(task, call) : null,
      talk && !p.id && c.address ? el("div", { class: "line" }, `${t("Answer in the chat")}: ${channelName(c.channel)}`) : null,
      talk && (p.id || c.address) ? thread(task) : null,
      call && call.status === "answered" ? null : actions(task),  // after a talk: the call's own outcomes
      ["declined", "call_back"].includes(state.forms[task.id]) ? form(task, state.forms[task.id]) : null,
      el("p", { class: "error", role: "alert" }),
      el("div", { class: "foot" }, historyOf(task), p.id ? choices(task) : null));
  }

  /* ---- outcomes, held 10 s for «Отменить» ----------------------------------------------------- */

  function actions(task) {
    const button = (label, cls, onclick) => el("button", { type: "button", class: cls, onclick }, t(label));
    const taken = task.assignee ? el("span", { class: "taken" }, `${t("Taken by")} ${task.assignee}`)
                                : button("Take", "take", () => take(task));
    if (kindOf(task) === "conversations") {
      return el("div", { class: "actions" },
        button("Replied", "answered", () => send(task, { outcome: "answered" })),
        button("Patient booked", "booked", () => send(task, { outcome: "booked" })),
        button("Needs a call", "needs-call", () => send(task, { outcome: "needs_call" })),
        button("Declined", "declined", () => openForm(task, "declined")), taken);
    }
    return el("div", { class: "actions" },
      button("Patient booked", "booked", () => send(task, { outcome: "booked" })),
      button("No answer", "no-answer", () => send(task, { outcome: "no_answer" })),
      button("Declined", "declined", () => openForm(task, "declined")),
      button("Wrong number", "wrong-number", () => send(task, { outcome: "wrong_number" })),
      button("Call back", "call-back", () => openForm(task, "call_back")), taken);
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

  /* The outcome goes to the server at once, held there for 10 s: a closed tab loses nothing (the server
     applies it), «Отменить» takes it back. A refused session keeps it in this tab until the next sign-in. */
  async function send(task, outcome) {
    state.busy = true;
    sessionStorage.setItem(UNSENT, JSON.stringify({ task: { id: task.id, patient: task.patient }, outcome }));
    try {
      const { status, body } = await api(clinicPath(`/tasks/${encodeURIComponent(task.id)}/outcome?undo=1`),
                                         { method: "POST", body: JSON.stringify(outcome) });
      sessionStorage.removeItem(UNSENT);
      if (status === 202 || status === 200) {
        delete state.forms[task.id];
        delete state.calls[task.id];
        hold(body || task, outcome);
        render();
      } else {
        const node = cardOf(task);
        if (node) node.querySelector(".error").textContent = explain(status, body);
      }
    } catch (error) {
      if (String(error.message) === "unauthorized") keptForLater(task, outcome);
    } finally {
      state.busy = false;
    }
  }

  function outcomeName(outcome) { return t(OUTCOMES[outcome.outcome] || outcome.outcome); }

  function keptForLater(task, outcome) {
    $("login-error").textContent = t("Your key was revoked or has expired. Sign in again: «%(outcome)s» for %(name)s is kept and will be saved after you sign in.",
                                     { outcome: outcomeName(outcome), name: task.patient.name || t("Patient") });
  }

  function unsentBanner() {
    const saved = JSON.parse(sessionStorage.getItem(UNSENT) || "null");
    const node = $("unsent");
    if (!saved) { node.hidden = true; return; }
    const drop = () => { sessionStorage.removeItem(UNSENT); node.hidden = true; };
    node.hidden = false;
    node.replaceChildren(
      el("span", {}, t("Not saved yet: «%(outcome)s» for %(name)s",
                       { outcome: outcomeName(saved.outcome), name: saved.task.patient.name || t("Patient") })),
      el("button", { type: "button", class: "primary", onclick: async () => { drop(); await send(saved.task, saved.outcome); } }, t("Save")),
      el("button", { type: "button", onclick: drop }, t("Cancel")));
  }

  function hold(task, outcome) {
    const until = Date.parse(task.pending_until || "") || Date.now() + UNDO_MS;
    clearTimeout((state.held[task.id] || {}).timer);
    const timer = setTimeout(() => { delete state.held[task.id]; toasts(); setTimeout(refresh, 1500); },
                             Math.max(0, until - Date.now()));
    state.held[task.id] = { task, outcome, until, timer };
    toasts();
  }

  async function undo(id) {
    const held = state.held[id];
    if (!held) return;
    const { status, body } = await api(clinicPath(`/tasks/${encodeURIComponent(id)}/outcome`), { method: "DELETE" });
    clearTimeout(held.timer);
    delete state.held[id];
    if (status === 200) {
      state.tasks = [body, ...state.tasks.filter((x) => x.id !== id)];
    }
    toasts(status === 200 ? null : t("This task is already closed"));
    render();
  }

  function toasts(message) {
    const node = $("toasts");
    node.replaceChildren(...Object.entries(state.held).map(([id, held]) =>
      el("div", { class: "toast", role: "status" },
        el("span", {}, `${outcomeName(held.outcome)} · ${held.task.patient ? held.task.patient.name || "" : ""}`),
        el("button", { type: "button", class: "undo", onclick: () => undo(id) }, t("Undo")))),
      ...(message ? [el("div", { class: "toast" }, message)] : []));
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

  /* ---- «Позвонить»: the PBX rings the administrator, then the patient -------------------------- */

  function callButton(task) {
    if (!session.me.pbx || !session.me.extension || !task.patient.phone || task.kind === "review") return null;
    const busy = state.calls[task.id] && state.calls[task.id].status === "ringing";
    return el("button", { type: "button", class: "call", disabled: busy || null, onclick: () => dial(task) }, t("Call the patient"));
  }

  async function dial(task) {
    state.calls[task.id] = { status: "ringing", task };
    render();
    const { status, body } = await api(clinicPath(`/tasks/${encodeURIComponent(task.id)}/call`), { method: "POST" });
    if (status !== 202) {
      state.calls[task.id] = { status: "failed", task, error: (body && (body.detail || body.title)) || status };
      render();
      return;
    }
    state.calls[task.id].id = body.call_id;
    follow(task.id, body.call_id);
  }

  async function follow(taskId, callId) {
    const call = state.calls[taskId];
    if (!call || call.id !== callId) return;
    const { status, body } = await api(clinicPath(`/calls/${encodeURIComponent(callId)}`));
    if (status === 200 && body.status !== "ringing") {
      Object.assign(call, body);
      if (body.status === "answered") state.forms = { [taskId]: "after_call" };
      if (body.status === "no_answer") {  // recorded by the server for this administrator; the ladder moved on
        delete state.calls[taskId];
        state.tasks = state.tasks.filter((x) => x.id !== taskId);
        toasts(t("No answer — the next step is planned"));
        setTimeout(() => toasts(), 6000);
        setTimeout(refresh, 2000);
      }
      render();
      return;
    }
    setTimeout(() => follow(taskId, callId), 1500);
  }

  function callState(task, call) {
    if (call.status === "ringing") return el("div", { class: "calling", role: "status" }, t("Calling: your phone rings first, then the patient"));
    if (call.status === "failed") return el("div", { class: "calling failed", role: "alert" }, t("The PBX did not place the call: %(error)s", { error: call.error || "" }));
    if (call.status === "unknown") return el("div", { class: "calling failed" }, t("The PBX has not reported the call yet"));
    if (call.status !== "answered") return null;
    return el("div", { class: "calling answered" },
      el("div", {}, t("The patient answered · %(time)s", { time: seconds(call.duration_s || 0) })),
      recording(call.call_id),
      el("div", { class: "row" },
        el("button", { type: "button", class: "primary", onclick: () => send(task, { outcome: "booked" }) }, t("Patient booked")),
        el("button", { type: "button", onclick: () => openForm(task, "call_back") }, t("Call back")),
        el("button", { type: "button", onclick: () => openForm(task, "declined") }, t("Declined"))));
  }

  function recording(callId) {
    const box = el("div", { class: "recording" });
    const play = el("button", { type: "button", class: "play", onclick: async () => {
      const { status, body } = await api(clinicPath(`/calls/${encodeURIComponent(callId)}/recording`),
                                         { headers: { Accept: "application/json" } });
      if (status !== 200) { box.replaceChildren(el("span", { class: "muted" }, t("No recording"))); return; }
      const audio = el("audio", { controls: true, preload: "none", src: body.url });  // the vendor's short-lived link
      box.replaceChildren(audio);
      audio.play().catch(() => null);
    } }, `▶ ${t("Recording")}`);
    box.append(play);
    return box;
  }

  /* ---- the conversation: the patient's messages and the reply box ------------------------------- */

  async function patientOf(id, fresh) {
    const cached = state.threads[id];
    if (cached && !fresh && Date.now() - cached.at < 20000) return cached.body;
    const { status, body } = await api(clinicPath(`/patients/${encodeURIComponent(id)}`));
    if (status !== 200) return null;
    state.threads[id] = { at: Date.now(), body };
    return body;
  }

  function thread(task) {
    const list = el("ol", { class: "thread" });
    const c = task.context || {};
    const known = Boolean(task.patient.id);
    const channel = c.channel && c.channel !== "call" ? c.channel : "whatsapp";
    const box = el("textarea", { name: "reply", rows: "2", placeholder: t("Reply") });
    box.value = state.drafts[task.id] || "";
    box.addEventListener("input", () => { state.drafts[task.id] = box.value; });
    box.addEventListener("focus", () => { state.forms[task.id] = state.forms[task.id] || "reply"; });
    box.addEventListener("blur", () => { if (!box.value.trim() && state.forms[task.id] === "reply") delete state.forms[task.id]; });
    const status = el("span", { class: "sent", role: "status" });
    const sendReply = el("button", { type: "button", class: "primary", onclick: async () => {
      const text = box.value.trim();
      if (!text) return;
      // a known patient is answered in their thread; a chat nobody knows yet, where it came from
      const key = `${task.id}-${Date.now()}`;
      const { status: code, body } = known
        ? await api(clinicPath(`/patients/${encodeURIComponent(task.patient.id)}/messages`),
                    { method: "POST", body: JSON.stringify({ channel, text, key }) })
        : await api(clinicPath(`/tasks/${encodeURIComponent(task.id)}/messages`),
                    { method: "POST", body: JSON.stringify({ text, key }) });
      if (code === 201) {
        box.value = ""; delete state.drafts[task.id]; delete state.forms[task.id];
        status.textContent = t("Sent");
        if (known) fill(list, await patientOf(task.patient.id, true));
        else list.append(bubble("out", text, new Date().toISOString(), c.channel));
      } else {
        status.textContent = t("Could not send: %(error)s", { error: (body && (body.detail || body.title)) || code });
      }
    } }, t("Send"));
    if (known) patientOf(task.patient.id).then((p) => fill(list, p));
    else list.replaceChildren(...(task.history || []).filter((e) => e.kind === "message" || e.kind === "reply")
      .slice(-8).map((e) => bubble(e.kind === "message" ? "in" : "out", e.detail, e.at, c.channel)));
    return el("div", { class: "conversation" }, list,
      el("div", { class: "quick" }, QUICK.map(([label, text]) => el("button", { type: "button", onclick: () => {
        box.value = t(text); state.drafts[task.id] = box.value; state.forms[task.id] = "reply"; box.focus();
      } }, t(label)))),
      el("div", { class: "reply" }, box, sendReply), status);
  }

  function fill(list, patient) {
    if (!patient) return;
    const messages = patient.timeline.filter((e) => e.kind === "message.received" || (e.kind === "message.sent" && e.detail.text));
    list.replaceChildren(...messages.slice(-8).map((e) => bubble(e.kind === "message.received" ? "in" : "out",
      e.detail.text || "", e.at, e.detail.channel)));
  }

  function bubble(direction, text, at, channel) {
    return el("li", { class: direction }, el("span", { class: "text" }, text),
      el("time", {}, `${time(at, true)} · ${channelName(channel)}`));
  }

  function channelName(channel) {
    return { whatsapp: "WhatsApp", telegram: "Telegram", sms: "SMS", email: "e-mail", call: t("call") }[channel] || (channel || "");
  }

  /* ---- the patient's choices: opt-out, channel, time ------------------------------------------ */

  function choices(task) {
    const details = el("details", { class: "choices" }, el("summary", {}, t("Patient settings")));
    details.addEventListener("toggle", async () => {
      if (!details.open || details.dataset.loaded) return;
      const patient = await patientOf(task.patient.id);
      if (!patient) return;
      details.dataset.loaded = "1";
      const out = el("input", { type: "checkbox", name: "opted_out", checked: patient.opted_out });
      const channel = el("select", { name: "preferred_channel" }, el("option", { value: "" }, "—"),
        ["call", "whatsapp", "telegram", "sms", "email"].map((c) => el("option", { value: c }, channelName(c))));
      channel.value = patient.preferred_channel || "";
      const when = el("select", { name: "preferred_time" }, el("option", { value: "" }, "—"),
        ["morning", "afternoon", "evening"].map((c) => el("option", { value: c }, t(c))));
      when.value = patient.preferred_time || "";
      const note = el("span", { class: "sent", role: "status" });
      const save = el("button", { type: "button", onclick: async () => {
        const body = { opted_out: out.checked, ...(channel.value ? { preferred_channel: channel.value } : {}),
                       ...(when.value ? { preferred_time: when.value } : {}) };
        const { status } = await api(clinicPath(`/patients/${encodeURIComponent(task.patient.id)}/preferences`),
                                     { method: "PUT", body: JSON.stringify(body) });
        note.textContent = status === 200 ? t("Saved") : t("Could not save: %(error)s", { error: status });
        delete state.threads[task.patient.id];
      } }, t("Save"));
      details.append(el("label", { class: "check" }, out, t("Do not write to this patient")),
        el("label", {}, t("Preferred channel"), channel), el("label", {}, t("Preferred time"), when), save, note,
        telegramLink(task));
    });
    return details;
  }

  /* «Ссылка в Telegram»: the patient's invite to the clinic's bot, copied to send by any channel */
  function telegramLink(task) {
    const shown = el("input", { type: "text", readonly: true, name: "telegram_link", hidden: true });
    const note = el("span", { class: "sent", role: "status" });
    const get = el("button", { type: "button", class: "telegram-link", onclick: async () => {
      const { status, body } = await api(clinicPath(`/patients/${encodeURIComponent(task.patient.id)}/telegram-link`));
      if (status !== 200) {
        note.textContent = status === 404 ? t("The clinic has no Telegram bot yet (Console → Connectors)")
                                          : t("Could not save: %(error)s", { error: status });
        return;
      }
      shown.value = body.url; shown.hidden = false; shown.select();
      try { await navigator.clipboard.writeText(body.url); note.textContent = t("Copied: send it to the patient"); }
      catch (e) { note.textContent = ""; }  // no clipboard (plain http, an old browser): the link is selected
      if (body.bound) note.textContent = t("Already bound to the clinic's bot");
    } }, t("Telegram link"));
    return el("div", { class: "row" }, get, shown, note);
  }

  /* ---- «История»: plain words, open across refreshes ----------------------------------------- */

  function historyLine(entry) {
    const d = entry.detail || {};
    let text = t(HISTORY[entry.kind] || "Other event");
    if (d.outcome) text += `: ${t(OUTCOMES[d.outcome] || "Other")}`;
    if (d.channel) text += ` (${channelName(d.channel)})`;
    if (typeof d === "string" && entry.kind === "assigned") text += ` ${d}`;
    return `${time(entry.at, true)} — ${text}`;
  }

  function historyOf(task) {
    const details = el("details", { class: "history", open: state.open.has(task.id) || null },
                       el("summary", {}, t("History")), el("ol"));
    const load = async () => {
      if (!task.patient.id) return;
      const patient = await patientOf(task.patient.id);
      if (!patient) return;
      details.querySelector("ol").replaceChildren(...patient.timeline.slice(-15).map((entry) => el("li", {}, historyLine(entry))));
    };
    details.addEventListener("toggle", () => {
      if (details.open) { state.open.add(task.id); load(); } else state.open.delete(task.id);
      sessionStorage.setItem(OPEN, JSON.stringify([...state.open]));
    });
    const own = [{ at: task.created_at, kind: "task.created" }, ...task.history];  // a caller not yet a patient
    for (const entry of own) details.querySelector("ol").append(el("li", {}, historyLine(entry)));
    if (details.open) load();
    return details;
  }

  /* ---- start -------------------------------------------------------------------------------- */

  window.ClinicFlow.start({
    async signedIn() {
      $("board").hidden = false;
      $("chips").hidden = false;
      unsentBanner();
      await refresh();
      clearInterval(state.timer);
      state.timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
    },
    signedOut() {
      clearInterval(state.timer);
      $("board").hidden = true;
      $("chips").hidden = true;
      $("goal").textContent = "";
    },
  });
})();
