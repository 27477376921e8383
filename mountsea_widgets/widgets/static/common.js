// Shared by every view (put in front of each view's own module by _page.py).
// Rule: text from a person or a server goes into the page as text (textContent, attributes),
// never as HTML.

/** An element: h("div", {className: "x", text: "y", title: "z", on: {click: f}}, child...). */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = value;
    else if (key === "on") for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    else if (key === "style") Object.assign(node.style, value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof node[key] !== "function" && !key.includes("-")) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A blob URL for image bytes (a DataView or ArrayBuffer from a message); revoke when done. */
function imageUrl(buffer, type = "image/jpeg") {
  return URL.createObjectURL(new Blob([buffer], { type }));
}

/** Milliseconds without an answer to "hello" before the view says it is not connected. */
const HELLO_PATIENCE_MS = 2500;

/**
 * The kernel connection of one view: says hello, hides the saved fallback while connected,
 * and shows "not connected to a kernel" when nobody answers (a notebook reopened after its
 * kernel was gone, or a kernel shut down while the page is open).
 * Returns {connected(), send(content, buffers), banner, dispose()}.
 */
function connect(model, el, onMessage) {
  const kind = model.get("view_kind") || "view";
  const banner = h("div", { className: "mw-offline", role: "status", hidden: true });
  el.prepend(banner);
  let connected = false;
  let timer = null;
  const fallbackStyle = h("style");
  const key = model.get("fallback_key");

  let everConnected = false;
  // What tests and benchmarks wait for: "waiting" for the first answer, then "connected" or
  // "offline".
  el.dataset.connection = "waiting";
  function showConnected(yes) {
    connected = yes;
    everConnected = everConnected || yes;
    banner.hidden = yes;
    el.dataset.connection = yes ? "connected" : "offline";
    el.classList.toggle("mw-disconnected", !yes);
    banner.textContent = yes
      ? ""
      : everConnected
        ? "Not connected to a kernel: no answer from it. It may be busy; if it is gone, " +
          "run the cell again."
        : `Not connected to a kernel: the ${kind} needs the kernel that made it. ` +
          "Run the cell again to use it (the saved results are shown below).";
    if (yes && key) {
      // While live, the saved copy of the results (the next output) stays out of sight.
      fallbackStyle.textContent =
        `.jp-OutputArea-child:has(.mountsea-fallback-${key}), .mountsea-fallback-${key} ` +
        "{ display: none !important; }";
      if (!fallbackStyle.isConnected) document.head.append(fallbackStyle);
    } else if (!everConnected) {
      fallbackStyle.remove();
    }
  }
  function waitForAnswer() {
    clearTimeout(timer);
    timer = setTimeout(() => showConnected(false), HELLO_PATIENCE_MS);
  }
  function handle(content, buffers) {
    if (content && content.type === "hello") { clearTimeout(timer); showConnected(true); return; }
    if (onMessage) onMessage(content, buffers || []);
  }
  model.on("msg:custom", handle);
  model.send({ type: "hello" });
  waitForAnswer();
  return {
    connected: () => connected,
    /** Send to Python; without a kernel say so instead of doing nothing. */
    send(content, buffers) {
      try {
        model.send(content, undefined, buffers);
        model.send({ type: "hello" });  // the answer tells whether anybody heard it
      } catch (error) {
        // A closed connection can refuse at once: say so now rather than after the wait.
        clearTimeout(timer);
        showConnected(false);
        return;
      }
      waitForAnswer();
    },
    banner,
    dispose() { clearTimeout(timer); model.off("msg:custom", handle); fallbackStyle.remove(); },
  };
}
