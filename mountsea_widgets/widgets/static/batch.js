// The batch summary (widgets/batch_summary.py holds the state; this draws it).
// Hub text (the counts line can hold it) goes in as text only (h(), textContent).

function renderBatch(model, el) {
  const root = h("div", { className: "mw-root mw-batch" });
  el.append(root);
  let urls = [];

  const title = h("span", { className: "mw-batch-title" });
  const progressBar = h("progress", { className: "mw-batch-progress", max: 1, value: 0 });
  const cancel = h("button", {
    className: "mw-cancel", type: "button", text: "Cancel",
    title: "Stop the batch (runs already sent may still finish and bill)",
    on: { click: () => conn.send({ type: "cancel" }) },
  });
  const question = h("span", { className: "mw-confirm-text" });
  const run = h("button", {
    className: "mw-run", type: "button", text: "Run the batch",
    title: "Send the batch's runs (nothing is sent before this)",
    on: { click: () => { run.disabled = true; conn.send({ type: "confirm" }); } },
  });
  const confirmBox = h("div", { className: "mw-confirm", hidden: true }, question, run);
  const text = h("div", { className: "mw-batch-text" });
  const problem = h("div", { className: "mw-problem", role: "alert", hidden: true });
  const images = h("div", { className: "mw-batch-images" });
  root.append(
    h("div", { className: "mw-batch-status" }, title, progressBar, cancel),
    confirmBox, text, problem, images,
  );

  function draw() {
    title.textContent = model.get("title") || "";
    const progress = model.get("progress") || { done: 0, total: 0 };
    progressBar.max = Math.max(progress.total || 0, 1);
    progressBar.value = Math.min(progress.done || 0, progressBar.max);
    progressBar.title = `${progress.done || 0} of ${progress.total || 0} done`;
    cancel.hidden = !model.get("running");
    const ask = model.get("confirm") || "";
    question.textContent = ask;
    confirmBox.hidden = !ask;
    if (ask) run.disabled = false;
    text.textContent = model.get("text") || "";
    const trouble = model.get("problem") || "";
    problem.textContent = trouble;
    problem.hidden = !trouble;
  }

  function showImages(buffers, mime) {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = buffers.map((buffer) => imageUrl(buffer, mime || "image/jpeg"));
    images.replaceChildren(...urls.map((src) => h("img", { className: "mw-thumb", src, alt: "" })));
  }

  function onMessage(content, buffers) {
    if (!content) return;
    if (content.type === "images") showImages(buffers, content.mime);
    else if (content.type === "problem") { problem.textContent = content.text || ""; problem.hidden = !content.text; }
  }

  const conn = connect(model, root, onMessage);
  draw();
  conn.send({ type: "thumbs" });  // the latest images travel by message: ask for them
  const names = ["title", "progress", "text", "running", "confirm", "problem"];
  for (const name of names) model.on(`change:${name}`, draw);
  return () => {
    for (const name of names) model.off(`change:${name}`, draw);
    for (const url of urls) URL.revokeObjectURL(url);
    conn.dispose();
  };
}

export default {
  render({ model, el }) {
    return renderBatch(model, el);
  },
};
