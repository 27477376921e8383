// The comparison grid (widgets/grid.py holds the state; this draws it).
// Text from a person or the hub (prompts, labels, errors) goes in as text only (h(), textContent).

/** Seconds shown for a running cell: what Python said plus the time since it said it. */
function cellSeconds(record, heardAt) {
  if (record.seconds === null || record.seconds === undefined) return null;
  if (!record.running) return record.seconds;
  return record.seconds + (performance.now() - heardAt) / 1000;
}

function renderGrid(model, el) {
  const root = h("div", { className: "mw-root mw-grid" });
  el.append(root);
  const thumbs = new Map();  // cell index -> blob URL
  const records = new Map();  // cell index -> record (the shown page)
  const heard = new Map();  // cell index -> when its record arrived (performance.now())
  const cellNodes = new Map();  // cell index -> {node, parts}

  const title = h("div", { className: "mw-grid-title" });
  const subtitle = h("div", { className: "mw-grid-subtitle" });
  const progressBar = h("progress", { className: "mw-grid-progress", max: 1, value: 0 });
  const summary = h("span", { className: "mw-grid-summary" });
  const cancel = h("button", {
    className: "mw-cancel", type: "button", text: "Cancel",
    title: "Stop waiting for unfinished cells (the provider may still finish and bill)",
    on: { click: () => conn.send({ type: "cancel" }) },
  });
  const estimate = h("div", { className: "mw-grid-estimate" });
  const question = h("span", { className: "mw-confirm-text" });
  const run = h("button", {
    className: "mw-run", type: "button", text: "Run the grid",
    title: "Submit every cell (each completed run is billed)",
    on: { click: () => { run.disabled = true; conn.send({ type: "confirm" }); } },
  });
  const confirmBox = h("div", { className: "mw-confirm", hidden: true }, question, run);
  const problem = h("div", { className: "mw-problem", role: "alert", hidden: true });
  const pagePicker = h("select", {
    className: "mw-page", "aria-label": "Page of the grid",
    on: { change: () => conn.send({ type: "page", page: Number(pagePicker.value) }) },
  });
  const pageBox = h("label", { className: "mw-page-box", hidden: true }, "Page: ", pagePicker);
  const table = h("div", { className: "mw-grid-table" });
  const full = h("div", { className: "mw-full", hidden: true, role: "dialog" });
  root.append(
    title, subtitle,
    h("div", { className: "mw-grid-status" }, progressBar, summary, cancel),
    estimate, confirmBox, problem, pageBox, table, full,
  );

  function drawHeader() {
    title.textContent = model.get("title") || "";
    subtitle.textContent = model.get("subtitle") || "";
    subtitle.hidden = !model.get("subtitle");
    summary.textContent = model.get("summary") || "";
    summary.dataset.tone = model.get("tone") || "muted";
    const progress = model.get("progress") || { done: 0, total: 0 };
    progressBar.max = Math.max(progress.total || 0, 1);
    progressBar.value = Math.min(progress.done || 0, progressBar.max);
    cancel.hidden = !model.get("running");
    estimate.textContent = model.get("estimate") || "";
    estimate.title = model.get("estimate_basis") || "";
    const ask = model.get("confirm") || "";
    question.textContent = ask;
    confirmBox.hidden = !ask;
    if (ask) run.disabled = false;
    const text = model.get("problem") || "";
    problem.textContent = text;
    problem.hidden = !text;
  }

  function drawPages() {
    const pages = model.get("pages") || [];
    pageBox.hidden = pages.length < 2;
    pagePicker.replaceChildren(
      ...pages.map((label, index) => h("option", { value: String(index), text: label })),
    );
    pagePicker.value = String(model.get("page") || 0);
  }

  function drawCell(index) {
    const entry = cellNodes.get(index);
    const record = records.get(index);
    if (!entry || !record) return;
    const { node, parts } = entry;
    node.dataset.status = record.status;
    node.dataset.tone = record.tone;
    parts.status.textContent = record.status;
    const url = thumbs.get(index);
    if (url && record.thumb) {
      parts.image.src = url;
      parts.image.hidden = false;
    } else {
      parts.image.removeAttribute("src");
      parts.image.hidden = true;
    }
    parts.detail.textContent = record.detail || "";
    parts.detail.hidden = !record.detail;
    parts.message.textContent = record.message || "";
    parts.message.hidden = !record.message;
    parts.estimate.textContent = record.estimate || "";
    drawClock(index);
  }

  function drawClock(index) {
    const entry = cellNodes.get(index);
    const record = records.get(index);
    if (!entry || !record) return;
    const seconds = cellSeconds(record, heard.get(index) || performance.now());
    entry.parts.seconds.textContent = seconds === null ? "" : `${seconds.toFixed(1)} s`;
    const bar = entry.parts.progress;
    bar.hidden = !record.running;
    if (record.running) {
      const expected = record.expected || 0;
      // Never "full" before the hub says so: the bar stops just short of the end.
      bar.value = expected > 0 ? Math.min(0.95, (seconds || 0) / expected) : 0;
    }
  }

  function drawTable() {
    const columns = model.get("columns") || [];
    const rows = model.get("rows") || [];
    table.style.gridTemplateColumns = `minmax(110px, max-content) repeat(${columns.length}, max-content)`;
    cellNodes.clear();
    records.clear();
    const now = performance.now();
    for (const record of model.get("cells") || []) { records.set(record.index, record); heard.set(record.index, now); }
    const nodes = [h("div", { className: "mw-corner" })];
    for (const label of columns) nodes.push(h("div", { className: "mw-col-label", text: label }));
    const byPlace = new Map();
    for (const record of records.values()) byPlace.set(`${record.row},${record.column}`, record);
    rows.forEach((label, row) => {
      nodes.push(h("div", { className: "mw-row-label", text: label }));
      columns.forEach((_label, column) => {
        const record = byPlace.get(`${row},${column}`);
        const index = record ? record.index : -1;
        const parts = {
          status: h("div", { className: "mw-cell-status" }),
          image: h("img", {
            className: "mw-thumb", alt: `${label} · ${columns[column]}`, hidden: true,
            title: "Click to see the image larger",
            on: { click: () => conn.send({ type: "full", index }) },
          }),
          progress: h("progress", { className: "mw-cell-progress", max: 1, value: 0, hidden: true }),
          seconds: h("span", { className: "mw-cell-seconds" }),
          estimate: h("span", { className: "mw-cell-estimate" }),
          detail: h("div", { className: "mw-cell-detail" }),
          message: h("div", { className: "mw-cell-message" }),
        };
        const node = h(
          "div", { className: "mw-cell", dataset: { index: String(index), status: "queued" } },
          parts.status, parts.image, parts.progress,
          h("div", { className: "mw-cell-line" }, parts.seconds, parts.estimate),
          parts.detail, parts.message,
        );
        nodes.push(node);
        if (record) { cellNodes.set(index, { node, parts }); drawCell(index); }
      });
    });
    table.replaceChildren(...nodes);
  }

  function setThumb(index, buffer, mime) {
    const old = thumbs.get(index);
    if (old) URL.revokeObjectURL(old);
    thumbs.set(index, imageUrl(buffer, mime || "image/jpeg"));
  }

  function showFull(content, buffers) {
    const record = records.get(content.index);
    const close = h("button", { className: "mw-full-close", type: "button", text: "Close", on: { click: hideFull } });
    const caption = h("div", { className: "mw-full-caption", text: record ? `${record.status}` : "" });
    const old = full.querySelector("img");
    if (old && old.src) URL.revokeObjectURL(old.src);
    if (buffers.length && content.mime) {
      const image = h("img", { className: "mw-full-image", src: imageUrl(buffers[0], content.mime), alt: "" });
      full.replaceChildren(close, image, caption);
    } else {
      full.replaceChildren(close, h("div", { className: "mw-full-text", text: content.text || "" }));
    }
    full.hidden = false;
  }
  function hideFull() {
    const old = full.querySelector("img");
    if (old && old.src) URL.revokeObjectURL(old.src);
    full.replaceChildren();
    full.hidden = true;
  }
  function onKey(event) { if (event.key === "Escape" && !full.hidden) hideFull(); }
  root.addEventListener("keydown", onKey);

  function onMessage(content, buffers) {
    if (!content) return;
    if (content.type === "cell" && content.cell) {
      const record = content.cell;
      if (!cellNodes.has(record.index)) return;  // another page's cell
      records.set(record.index, record);
      heard.set(record.index, performance.now());
      drawCell(record.index);
    } else if (content.type === "thumb") {
      if (buffers.length) setThumb(content.index, buffers[0], content.mime);
      drawCell(content.index);
    } else if (content.type === "thumbs") {
      (content.thumbs || []).forEach((item, i) => { if (buffers[i]) setThumb(item.index, buffers[i], item.mime); });
      const now = performance.now();
      for (const record of content.cells || []) {
        if (!cellNodes.has(record.index)) continue;
        records.set(record.index, record);
        heard.set(record.index, now);
        drawCell(record.index);
      }
    } else if (content.type === "full") {
      showFull(content, buffers);
    } else if (content.type === "problem") {
      problem.textContent = content.text || "";
      problem.hidden = !content.text;
    }
  }

  const conn = connect(model, root, onMessage);
  drawHeader();
  drawPages();
  drawTable();
  conn.send({ type: "thumbs" });  // thumbnails travel by message: ask for the shown page's

  const header = ["title", "subtitle", "summary", "tone", "progress", "running", "estimate",
    "estimate_basis", "confirm", "problem"];
  for (const name of header) model.on(`change:${name}`, drawHeader);
  model.on("change:pages", drawPages);
  model.on("change:page", drawPages);
  model.on("change:cells", drawTable);
  model.on("change:rows", drawTable);
  model.on("change:columns", drawTable);
  const clock = setInterval(() => { for (const index of cellNodes.keys()) if (records.get(index)?.running) drawClock(index); }, 500);

  return () => {
    clearInterval(clock);
    for (const name of header) model.off(`change:${name}`, drawHeader);
    model.off("change:pages", drawPages);
    model.off("change:page", drawPages);
    model.off("change:cells", drawTable);
    model.off("change:rows", drawTable);
    model.off("change:columns", drawTable);
    root.removeEventListener("keydown", onKey);
    hideFull();
    for (const url of thumbs.values()) URL.revokeObjectURL(url);
    conn.dispose();
  };
}

export default {
  render({ model, el }) {
    return renderGrid(model, el);
  },
};
