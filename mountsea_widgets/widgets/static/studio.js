// The Studio's page: the model picker, the form (renderForm, from form.js), Generate, the
// totals, and the history as ONE virtualized list of fixed-size cards laid out in rows. Only
// the visible rows (and a few more) exist in the page; it asks Python for the rows it needs
// ({type: "rows", start, stop, have}) and keeps a bounded cache of records and thumbnails.

/** Card size in the list (px, as studio.css draws them) and the gap between cards. */
const CARD_W = 250;
const CARD_H = 330;
const CARD_GAP = 8;
/** Tallest the list grows before it scrolls (px). */
const LIST_HEIGHT = 680;
/** Rows drawn beyond the visible ones, above and below. */
const OVERSCAN_ROWS = 2;
/** Most records and thumbnail sets the page keeps (older ones are dropped, URLs revoked). */
const MAX_CACHED_ROWS = 600;
const MAX_CACHED_THUMBS = 400;
const MAX_LIVE = 300;
/** Milliseconds before rows asked for and never answered are asked for again. */
const ASK_PATIENCE_MS = 5000;

/** A Map that forgets its oldest entries past `limit` (calling `drop(value)` for each). */
function boundedMap(limit, drop) {
  const map = new Map();
  return {
    get(key) {
      if (!map.has(key)) return undefined;
      const value = map.get(key);
      map.delete(key);
      map.set(key, value); // most recently used last
      return value;
    },
    has: (key) => map.has(key),
    peek: (key) => map.get(key),
    keys: () => map.keys(),
    delete: (key) => map.delete(key),
    set(key, value) {
      if (map.has(key)) { const old = map.get(key); map.delete(key); if (drop && old !== value) drop(old); }
      map.set(key, value);
      while (map.size > limit) {
        const [oldest, old] = map.entries().next().value;
        map.delete(oldest);
        if (drop) drop(old);
      }
    },
    clear() { if (drop) for (const value of map.values()) drop(value); map.clear(); },
    get size() { return map.size; },
  };
}

function studioView({ model, el }) {
  const root = h("div", { className: "mw-root mw-studio" });
  el.append(root);
  const disposers = [];
  const on = (name, fn) => { model.on(name, fn); disposers.push(() => model.off(name, fn)); };

  // --- the parts -------------------------------------------------------------------------
  const banner = h("div", { className: "mw-banner", role: "status" });
  const picker = h("select", { className: "mw-model", title: "Which hub model to run; the form shows exactly its parameters" });
  const summary = h("div", { className: "mw-summary" });
  const loadPath = h("input", { type: "text", className: "mw-load-path", placeholder: "path of an image saved by mountsea-widgets" });
  const loadButton = h("button", { type: "button", className: "mw-button mw-load", text: "Load parameters", title: "Put the model and parameters saved in that image into the form" });
  const loadMessage = h("div", { className: "mw-load-message" });
  const formRoot = h("div", { className: "mw-form-host" });
  const generate = h("button", { type: "button", className: "mw-button mw-primary mw-generate", text: "Generate", title: "Start a run with these parameters (you can keep working meanwhile)" });
  const estimate = h("span", { className: "mw-estimate" });
  const activity = h("span", { className: "mw-activity" });
  const saveFolder = h("input", { type: "text", className: "mw-save-folder", title: "Folder for Save (relative paths start at the notebook's folder)" });
  const spent = h("span", { className: "mw-spent" });
  const credits = h("span", { className: "mw-credits" });
  const reason = h("div", { className: "mw-reason mw-error", role: "alert" });
  const info = h("span", { className: "mw-history-info" });
  const selectAll = h("button", { type: "button", className: "mw-button mw-select-all", text: "select all", title: "Select every run (for export)" });
  const selectNone = h("button", { type: "button", className: "mw-button mw-select-none", text: "select none", title: "Clear the selection" });
  const exportFolder = h("input", { type: "text", className: "mw-export-folder", placeholder: "folder (default: mountsea-export-<date>-<time>)", title: "Where Export selected copies the images and writes index.csv / index.json" });
  const exportButton = h("button", { type: "button", className: "mw-button mw-export", text: "Export selected", title: "Copy the selected runs' images to the folder, with index.csv and index.json" });
  const selectedCount = h("span", { className: "mw-selected-count" });
  const historyMessage = h("div", { className: "mw-history-message" });
  const tools = h("div", { className: "mw-history-tools" },
    h("div", {}, info),
    h("div", { className: "mw-row" }, selectAll, selectNone, exportFolder, exportButton, selectedCount),
    historyMessage);
  const empty = h("div", { className: "mw-empty", text: "No runs yet: write a prompt and click Generate." });
  const list = h("div", { className: "mw-history", tabIndex: 0 });
  const spacer = h("div", { className: "mw-history-inner" });
  list.append(spacer);
  const fullCaption = h("span", { className: "mw-full-caption" });
  const fullImage = h("img", { className: "mw-full-image", alt: "" });
  const fullClose = h("button", { type: "button", className: "mw-button mw-full-close", text: "close full size" });
  const full = h("div", { className: "mw-full", hidden: true }, h("div", { className: "mw-row" }, fullCaption, fullClose), fullImage);

  root.append(
    banner,
    h("div", { className: "mw-row mw-pick" }, h("label", { className: "mw-label", text: "model" }), picker),
    summary,
    h("div", { className: "mw-row mw-load-image" }, h("label", { className: "mw-label", text: "from image" }), loadPath, loadButton),
    loadMessage,
    formRoot,
    h("div", { className: "mw-row mw-actions" }, generate, estimate, activity, h("label", { className: "mw-label-small", text: "save to" }), saveFolder),
    h("div", { className: "mw-row mw-costs" }, spent, credits),
    reason,
    tools,
    empty,
    list,
    full,
  );

  // --- the kernel connection and the form -----------------------------------------------
  const link = connect(model, el, onMessage);
  const send = (content, buffers) => link.send(content, buffers);
  const form = typeof renderForm === "function" ? renderForm(formRoot, send) : null;
  if (!form) formRoot.append(h("div", { className: "mw-error", text: "The form cannot be drawn by this version's page code." }));

  // --- simple traits ------------------------------------------------------------------------
  function text(node, value) { node.textContent = value == null ? "" : String(value); }
  function showTop() {
    text(banner, model.get("banner"));
    banner.dataset.kind = model.get("banner_kind") || "";
    const models = model.get("models") || [];
    const current = model.get("model");
    if (picker.options.length !== models.length || [...picker.options].some((o, i) => o.value !== models[i][1] || o.textContent !== models[i][0])) {
      picker.replaceChildren(...models.map(([label, id]) => h("option", { value: id, text: label })));
    }
    picker.value = current;
    text(summary, model.get("summary"));
    generate.disabled = !model.get("can_generate");
    text(reason, model.get("reason"));
    reason.hidden = !model.get("reason");
    text(estimate, model.get("estimate"));
    estimate.title = model.get("estimate_basis") || "";
    text(activity, model.get("activity"));
    text(spent, model.get("spent"));
    spent.title = model.get("spent_tip") || "";
    text(credits, model.get("credits"));
    credits.classList.toggle("mw-quiet", !!model.get("credits_quiet"));
    text(loadMessage, model.get("load_message"));
    loadMessage.classList.toggle("mw-error", !!model.get("load_error"));
    tools.hidden = !model.get("has_history");
    text(info, model.get("history_info"));
    text(historyMessage, model.get("history_message"));
    historyMessage.classList.toggle("mw-error", !!model.get("history_error"));
    const selected = model.get("selected_count") || 0;
    text(selectedCount, selected ? `${selected.toLocaleString()} selected` : "");
    for (const [input, name] of [[saveFolder, "save_folder"], [exportFolder, "export_folder"], [loadPath, "load_path"]]) {
      if (document.activeElement !== input) input.value = model.get(name) || "";
    }
  }
  for (const name of ["banner", "banner_kind", "models", "model", "summary", "can_generate", "reason",
    "estimate", "estimate_basis", "activity", "spent", "spent_tip", "credits", "credits_quiet",
    "load_message", "load_error", "has_history", "history_info", "history_message", "history_error",
    "selected_count", "save_folder", "export_folder", "load_path"]) on(`change:${name}`, showTop);
  showTop();
  if (form) { form.update(model.get("form_state")); on("change:form_state", () => form.update(model.get("form_state"))); }

  // --- page -> Python ---------------------------------------------------------------------
  function field(input, name) {
    input.addEventListener("input", () => { model.set(name, input.value); model.save_changes(); });
  }
  field(saveFolder, "save_folder");
  field(exportFolder, "export_folder");
  field(loadPath, "load_path");
  picker.addEventListener("change", () => send({ type: "model", model: picker.value }));
  generate.addEventListener("click", () => {
    if (form) send({ type: "form", values: form.values() }); // what was typed a moment ago
    send({ type: "generate" });
  });
  loadButton.addEventListener("click", () => send({ type: "load", path: loadPath.value }));
  loadPath.addEventListener("keydown", (event) => { if (event.key === "Enter") send({ type: "load", path: loadPath.value }); });
  selectAll.addEventListener("click", () => send({ type: "select_all", on: true }));
  selectNone.addEventListener("click", () => send({ type: "select_all", on: false }));
  exportButton.addEventListener("click", () => send({ type: "export" }));
  list.addEventListener("click", (event) => {
    const message = cardAction(event.target);
    if (message && message.action !== "select") send(message);
  });
  list.addEventListener("change", (event) => {
    const message = cardAction(event.target);
    if (message && message.action === "select") send(message);
  });
  let fullUrl = null;
  function closeFull() {
    full.hidden = true;
    fullImage.removeAttribute("src");
    if (fullUrl) URL.revokeObjectURL(fullUrl);
    fullUrl = null;
  }
  fullClose.addEventListener("click", closeFull);

  // --- the virtualized list ---------------------------------------------------------------
  const rows = boundedMap(MAX_CACHED_ROWS);       // position -> record (this list_version)
  const live = boundedMap(MAX_LIVE);               // run id -> newest record from a "run" message
  const thumbs = boundedMap(MAX_CACHED_THUMBS, (urls) => { for (const url of urls || []) if (url) URL.revokeObjectURL(url); });
  const drawn = new Map();                         // run id (or "@position" while loading) -> {node, key, position}
  let version = model.get("list_version");
  let asked = null;                                // the range asked for and not answered yet
  let frame = 0;

  function columns() { return Math.max(1, Math.floor((list.clientWidth - CARD_GAP + 1) / (CARD_W + CARD_GAP)) || 1); }
  function recordAt(position) {
    const base = rows.get(position);
    if (!base) return undefined;
    return live.get(base.id) || base;
  }
  // The newest runs' window (first paint, saved notebooks) seeds the rows it was taken for.
  function takeRecent() {
    if (model.get("recent_version") !== version) return;
    (model.get("recent") || []).forEach((record, position) => {
      // A row already held for the same run stays (its changes came as "run" messages):
      // the cards that did not change are not drawn again.
      const held = rows.peek(position);
      if (!held || held.id !== record.id) rows.set(position, record);
    });
  }
  // A run added or removed at `at`: the rows held move with it (no asking again, no redraw
  // of the cards that only moved). Work bounded by the cache, whatever the history's size.
  function shiftRows(at, by, record) {
    const moved = [];
    for (const position of [...rows.keys()]) {
      if (position >= at) { moved.push([position, rows.peek(position)]); rows.delete(position); }
    }
    for (const [position, value] of moved) {
      if (by > 0 || position !== at) rows.set(position + by, value);
    }
    if (record) rows.set(at, record);
  }
  function schedule() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); }

  function draw() {
    const count = model.get("run_count") || 0;
    empty.hidden = count > 0;
    list.hidden = count === 0;
    const cols = columns();
    const rowH = CARD_H + CARD_GAP;
    const total = Math.ceil(count / cols) * rowH;
    spacer.style.height = `${total}px`;
    list.style.height = `${Math.min(LIST_HEIGHT, total + CARD_GAP)}px`; // short lists stay short
    const height = list.clientHeight || 600;
    const firstRow = Math.max(0, Math.floor(list.scrollTop / rowH) - OVERSCAN_ROWS);
    const lastRow = Math.floor((list.scrollTop + height) / rowH) + OVERSCAN_ROWS;
    const start = firstRow * cols;
    const stop = Math.min(count, (lastRow + 1) * cols);
    const missing = [];
    const have = [];
    const wanted = new Map();                      // drawn key -> [position, record]
    for (let position = start; position < stop; position++) {
      const record = recordAt(position);
      wanted.set(record ? `id:${record.id}` : `@${position}`, [position, record]);
    }
    for (const [id, item] of drawn) {
      if (!wanted.has(id)) { item.node.remove(); drawn.delete(id); }
    }
    for (const [id, [position, record]] of wanted) {
      let urls;
      if (record) {
        urls = thumbs.get(record.id);
        if (urls) have.push(record.id);
        else if (record.final && record.images > 0) missing.push(position);
      } else {
        missing.push(position);
      }
      const key = record ? JSON.stringify(record) + (urls ? "+" : "-") : "loading";
      const old = drawn.get(id);
      const row = Math.floor(position / cols);
      const col = position % cols;
      const place = `translate(${col * (CARD_W + CARD_GAP)}px, ${row * rowH}px)`;
      if (old && old.key === key) {
        if (old.place !== place) { old.node.style.transform = place; old.place = place; }
        continue;
      }
      const node = record
        ? drawCard(record, { thumbs: urls, selectable: model.get("has_history"), onOpen: (index) => send({ type: "full", run_id: record.id, index }) })
        : h("div", { className: "mw-card mw-card-loading", text: "loading…" });
      node.style.position = "absolute";
      node.style.transform = place;
      if (old) old.node.replaceWith(node); else spacer.append(node);
      drawn.set(id, { node, key, place });
    }
    // The cards in position order (newest first), moving only those out of place: a run
    // added at the top moves nothing else.
    let cursor = spacer.firstChild;
    for (const id of wanted.keys()) {
      const node = drawn.get(id).node;
      if (node === cursor) cursor = cursor.nextSibling;
      else spacer.insertBefore(node, cursor);
    }
    if (asked && Date.now() - asked.time > ASK_PATIENCE_MS) asked = null; // lost: ask again
    if (missing.length && !asked) {
      asked = { start: Math.min(...missing), stop: Math.max(...missing) + 1, version, time: Date.now() };
      send({ type: "rows", start: asked.start, stop: asked.stop, have });
    }
  }

  function onMessage(content, buffers) {
    if (!content) return;
    if (content.type === "rows") {
      if (content.version === version) {
        (content.rows || []).forEach((record, offset) => {
          rows.set(content.start + offset, record);
          takeThumbs(record, buffers);
        });
      } else {
        for (const record of content.rows || []) takeThumbs(record, buffers);
      }
      asked = null;
      schedule();
    } else if (content.type === "moved") {
      if (content.from === version) {
        shiftRows(content.at, content.by, content.record);
        version = content.version;
      } else {
        rows.clear();
      }
      if (content.record) live.set(content.record.id, content.record);
      asked = null;
      schedule();
    } else if (content.type === "run" && content.record) {
      live.set(content.record.id, content.record);
      takeThumbs(content.record, buffers);
      schedule();
    } else if (content.type === "full") {
      closeFull();
      if (content.error) { text(fullCaption, content.error); full.hidden = false; return; }
      fullUrl = imageUrl(buffers[0], content.mime || "image/png");
      fullImage.src = fullUrl;
      text(fullCaption, content.caption || "");
      full.hidden = false;
    } else if (content.type === "problem") {
      text(reason, content.text);
      reason.hidden = false;
    }
  }
  function takeThumbs(record, buffers) {
    if (!Array.isArray(record.thumbs)) return;
    thumbs.set(record.id, record.thumbs.map((index) => (index === null || index === undefined || !buffers[index] ? null : imageUrl(buffers[index], "image/jpeg"))));
  }

  on("change:list_version", () => {
    if (model.get("list_version") === version) return; // shifted already ("moved")
    version = model.get("list_version");
    rows.clear(); // positions moved; thumbnails stay (by run id)
    takeRecent();
    asked = null;
    schedule();
  });
  on("change:selection_version", () => { rows.clear(); live.clear(); takeRecent(); asked = null; schedule(); });
  on("change:recent", () => { takeRecent(); schedule(); });
  on("change:recent_version", () => { takeRecent(); schedule(); });
  on("change:run_count", schedule);
  on("change:has_history", schedule);
  takeRecent();
  list.addEventListener("scroll", schedule, { passive: true });
  const resize = typeof ResizeObserver === "function" ? new ResizeObserver(schedule) : null;
  if (resize) resize.observe(list);
  draw();

  return () => {
    cancelAnimationFrame(frame);
    if (resize) resize.disconnect();
    for (const dispose of disposers) dispose();
    link.dispose();
    closeFull();
    thumbs.clear();
  };
}

export default { render: studioView };
