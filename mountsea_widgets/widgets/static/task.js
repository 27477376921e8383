// The %%mountsea output: one run drawn like a Studio card (card.js), live, with its images
// larger (JPEGs of bounded size, sent by Python in an "images" message).

function taskView({ model, el }) {
  const root = h("div", { className: "mw-root mw-task" });
  el.append(root);
  const holder = h("div", { className: "mw-task-card" });
  const saveFolder = h("input", { type: "text", className: "mw-save-folder", title: "Folder for Save (relative paths start at the notebook's folder)" });
  root.append(holder, h("div", { className: "mw-row mw-task-tools" }, h("label", { className: "mw-label-small", text: "save to" }), saveFolder));
  let urls;        // blob URLs of the images (undefined until they arrive)
  let askedImages = false;
  const link = connect(model, el, (content, buffers) => {
    if (content && content.type === "images") {
      revoke();
      urls = (content.thumbs || []).map((index) => (index === null || index === undefined || !buffers[index] ? null : imageUrl(buffers[index], "image/jpeg")));
      draw();
    } else if (content && content.type === "problem") {
      holder.append(h("div", { className: "mw-error", text: content.text }));
    }
  });
  function revoke() { for (const url of urls || []) if (url) URL.revokeObjectURL(url); urls = undefined; }
  function draw() {
    const record = model.get("record") || {};
    if (record.final && record.images > 0 && urls === undefined && !askedImages) {
      askedImages = true;
      link.send({ type: "images" });
    }
    holder.replaceChildren(drawCard(record, { thumbs: urls, large: true }));
    if (document.activeElement !== saveFolder) saveFolder.value = model.get("save_folder") || "";
  }
  root.addEventListener("click", (event) => {
    const message = cardAction(event.target);
    if (message) link.send(message);
  });
  saveFolder.addEventListener("input", () => { model.set("save_folder", saveFolder.value); model.save_changes(); });
  const redraw = () => draw();
  model.on("change:record", redraw);
  model.on("change:save_folder", redraw);
  draw();
  return () => { model.off("change:record", redraw); model.off("change:save_folder", redraw); link.dispose(); revoke(); };
}

export default { render: taskView };
