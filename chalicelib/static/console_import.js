/* The console's Импорт базы: an MIS export dropped or chosen, its progress, what was imported and what was
   rejected (Excel row, column, reason in the page's language), the rejected rows back as a file, the history.
   Plain JavaScript; data reaches the page as text nodes only. Shared helpers: console.js. */
(() => {
  "use strict";
  const { LANG, T, t, $, el, api, clinicPath } = window.ClinicFlow;
  const C = window.ClinicFlow.console;
  const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  const page = { polling: 0 };

  const column = (name) => (T[`col:${name}`] ? t(`col:${name}`) : name);
  const when = (iso) => new Intl.DateTimeFormat(LANG, { day: "numeric", month: "long", year: "numeric", hour: "2-digit",
    minute: "2-digit", timeZone: C.state.settings.timezone }).format(new Date(iso));

  async function render() {
    const input = el("input", { type: "file", id: "import-file", accept: ".csv,.xlsx,text/csv," + XLSX, hidden: true,
                                onchange: () => input.files[0] && upload(input.files[0]) });
    const drop = el("div", { class: "drop", id: "import-drop" }, el("p", {}, t("imp:drop")), input,
      el("button", { type: "button", class: "primary", onclick: () => input.click() }, t("imp:choose")));
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
    });
    $("app").replaceChildren(
      el("section", { class: "panel" }, el("h1", {}, t("imp:title")), el("p", { class: "muted" }, t("imp:lead")), drop,
        el("div", { id: "import-result", role: "status" })),
      el("section", { class: "panel", id: "import-history" }));
    history();
  }

  async function upload(file) {
    const type = /\.xlsx$/i.test(file.name) ? XLSX : "text/csv";
    const box = $("import-result");
    box.replaceChildren(el("p", {}, t("imp:sending")), el("progress", { id: "import-progress" }));
    const { status, body } = await api(clinicPath("/imports"), { method: "POST", body: await file.arrayBuffer(),
                                                                  headers: { "Content-Type": type } });
    if (status !== 202) {
      box.replaceChildren(el("p", { class: "error", role: "alert" },
        ((body && body.errors) || []).map((e) => `${column(e.field)}: ${C.fieldMessage(e)}`).join("; ") || C.problemText(body)));
      return;
    }
    follow(body.import_id);
  }

  /* Polls the import until it ends, drawing its progress; only the latest import asked for is drawn. */
  async function follow(id) {
    const mine = ++page.polling;
    for (;;) {
      const { body } = await api(clinicPath(`/imports/${encodeURIComponent(id)}`));
      if (mine !== page.polling || C.state.view !== "import") return;
      if (body.status !== "running") { result(body); history(); return; }
      const { chunks, chunks_done: done } = body.progress;
      $("import-result").replaceChildren(el("p", {}, t("imp:running", { done: C.number(done), total: C.number(chunks || 0) })),
        el("progress", { id: "import-progress", max: Math.max(chunks, 1), value: done }));
      await new Promise((resolve) => { setTimeout(resolve, 600); });
    }
  }

  function result(body) {
    const reasons = body.rejected.map((r) => el("tr", {}, el("td", { class: "num" }, String(r.row)),
      el("td", {}, column(r.field)), el("td", {}, C.fieldMessage(r))));
    $("import-result").replaceChildren(
      el("div", { class: "figures", id: "import-figures" },
        el("span", {}, t("imp:rows"), " ", el("b", {}, C.number(body.rows))),
        el("span", {}, t("imp:imported"), " ", el("b", {}, C.number(body.imported))),
        el("span", {}, t("imp:rejected"), " ", el("b", {}, C.number(body.rejected_rows))),
        el("span", { class: "badge" }, t(`imp:status:${body.status}`))),
      body.rejected_rows ? el("div", {},
        el("div", { class: "row" }, el("button", { type: "button", id: "import-download", onclick: () => download(body.import_id) },
          t("imp:download")), el("span", { class: "muted" }, t("imp:fix"))),
        el("div", { class: "scroll" }, el("table", { id: "import-rejected" },
          el("thead", {}, el("tr", {}, el("th", { class: "num" }, t("imp:row")), el("th", {}, t("imp:field")),
            el("th", {}, t("imp:reason")))), el("tbody", {}, reasons)))) : null);
  }

  async function download(id) {
    const response = await api(clinicPath(`/imports/${encodeURIComponent(id)}/rejected?lang=${LANG}`),
                               { raw: true, headers: { "Accept": "text/csv" } });
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `rejected_${id}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  }

  async function history() {
    const { body } = await api(clinicPath("/imports"));
    const target = $("import-history");
    if (!target) return;
    target.replaceChildren(el("h2", {}, t("imp:history")), body.imports.length === 0 ? el("p", { class: "muted" }, t("imp:nothing"))
      : el("div", { class: "scroll" }, el("table", {},
        el("thead", {}, el("tr", {}, [t("imp:when"), t("imp:file"), t("imp:rows"), t("imp:imported"), t("imp:rejected"),
          t("cmp:status"), ""].map((h, i) => el("th", { class: i > 1 && i < 5 ? "num" : null }, h)))),
        el("tbody", {}, body.imports.map((job) => el("tr", { dataset: { importId: job.import_id } },
          el("td", {}, when(job.received_at)), el("td", {}, job.kind.toUpperCase()),
          el("td", { class: "num" }, C.number(job.rows)), el("td", { class: "num" }, C.number(job.imported)),
          el("td", { class: "num" }, C.number(job.rejected_rows)), el("td", {}, t(`imp:status:${job.status}`)),
          el("td", {}, el("button", { type: "button", class: "link", onclick: () => follow(job.import_id) }, t("imp:open")))))))));
  }

  C.register("import", render);
})();
