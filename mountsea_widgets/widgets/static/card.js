// One run drawn from its record (run_card.Card.record in Python): shared by the Studio's
// history list and the %%mountsea task cell. Every text from a person or a server goes in
// as text (h() uses textContent / attributes).

/** What each action's button says, and its tooltip. */
const CARD_ACTIONS = {
  cancel: ["Cancel", "Stop waiting (the provider may still bill)"],
  resume: ["Resume", "Poll this task again (it is not submitted twice)"],
  reuse: ["Reuse", "Load this model and these parameters into the form"],
  "use-input": ["Use as input", "Edit this image: the run's edit model gets it in image_urls"],
  save: ["Save", "Write the images to the save folder"],
  code: ["Code", "Show the mw.generate(...) call for this run"],
  remove: ["Remove", "Remove this run from the history"],
};

/**
 * A card element for `record`.
 * options: thumbs (array of blob URLs or null per image, or undefined while not loaded),
 * large (the task cell: bigger images), selectable (a "select" checkbox), onOpen(index)
 * (a thumbnail was clicked).
 */
function drawCard(record, options = {}) {
  const status = String(record.status || "");
  const card = h("div", {
    className: "mw-card" + (options.large ? " mw-card-large" : ""),
    dataset: { runId: String(record.id || ""), status },
  });
  const head = h("div", { className: "mw-card-head" });
  if (options.selectable) {
    head.append(h("input", {
      type: "checkbox",
      className: "mw-select",
      checked: !!record.selected,
      title: "Select this run (for Export selected)",
      "data-action": "select",
    }));
  }
  head.append(
    h("span", { className: "mw-card-model", text: record.model }),
    h("span", { className: `mw-status mw-status-${status}`, text: status }),
  );
  card.append(head);
  card.append(h("div", {
    className: "mw-card-prompt",
    text: record.prompt || "(no prompt)",
    title: record.prompt || "",
  }));
  const params = (record.params || []).map(([name, value]) => `${name}=${value}`).join(" · ");
  card.append(h("div", {
    className: "mw-card-params",
    text: params || "default parameters",
    title: params,
  }));
  const started = `started ${record.started || ""}`;
  card.append(h("div", {
    className: "mw-card-task",
    text: record.task ? `${started} · task ${record.task}` : started,
    title: record.task || "",
  }));

  const bar = h("div", { className: "mw-progress" }, h("div", {
    className: "mw-progress-fill",
    style: { width: `${Math.round(100 * Math.max(0, Math.min(1, Number(record.progress) || 0)))}%` },
  }));
  if (record.late) bar.classList.add("mw-late");
  card.append(h("div", { className: "mw-card-timing" },
    bar,
    h("span", { className: "mw-timing", text: record.timing || "" }),
    record.cost ? h("span", { className: "mw-cost", text: record.cost, title: record.cost_basis || "" }) : null,
  ));

  const images = Number(record.images) || 0;
  const pictures = h("div", { className: "mw-thumbs" });
  if (images > 0 && record.final) {
    for (let index = 0; index < images; index++) {
      const url = options.thumbs ? options.thumbs[index] : undefined;
      if (url) {
        const img = h("img", {
          className: "mw-thumb",
          src: url,
          alt: `image ${index + 1}`,
          title: options.onOpen ? "Show this image at full size" : "",
          "data-index": String(index),
        });
        if (options.onOpen) img.addEventListener("click", () => options.onOpen(index));
        pictures.append(h("div", { className: "mw-thumb-box" }, img, imageButtons(record, index)));
      } else if (url === null) {
        pictures.append(h("div", { className: "mw-thumb-missing mw-error", text: `image ${index + 1} cannot be shown` }));
      } else {
        pictures.append(h("div", { className: "mw-thumb-waiting", text: "…" }));
      }
    }
  }
  card.append(pictures);
  if (record.error) card.append(h("div", { className: "mw-card-error mw-error", text: record.error, title: record.error }));
  if (record.note) card.append(h("div", { className: "mw-card-note", text: record.note, title: record.note }));
  if (record.code) card.append(h("pre", { className: "mw-code", text: record.code }));

  const actions = h("div", { className: "mw-card-actions" });
  for (const name of record.actions || []) {
    if (name === "use-input") continue; // one per image, beside it
    const [label, tip] = CARD_ACTIONS[name] || [name, ""];
    actions.append(h("button", {
      type: "button",
      className: `mw-button mw-action-${name}`,
      text: name === "code" && record.code ? "Hide code" : label,
      title: tip,
      "data-action": name,
    }));
  }
  card.append(actions);
  return card;
}

/** The per-image actions (Use as input) under a thumbnail. */
function imageButtons(record, index) {
  if (!(record.actions || []).includes("use-input")) return null;
  const [label, tip] = CARD_ACTIONS["use-input"];
  return h("button", {
    type: "button",
    className: "mw-button mw-action-use-input",
    text: label,
    title: tip,
    "data-action": "use-input",
    "data-index": String(index),
  });
}

/** The message a click on `target` inside a card asks for (null when it is no action). */
function cardAction(target) {
  const control = target.closest ? target.closest("[data-action]") : null;
  if (!control) return null;
  const card = control.closest(".mw-card");
  if (!card || control.disabled) return null;
  const action = control.getAttribute("data-action");
  const message = { type: "action", action, run_id: card.dataset.runId };
  const index = control.getAttribute("data-index");
  if (index !== null) message.index = Number(index);
  if (action === "select") message.on = !!control.checked;
  return message;
}
