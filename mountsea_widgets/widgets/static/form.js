// The parameter form, drawn from form.state() (mountsea_widgets/widgets/form.py).
// Python owns the values and judges them (the catalog); this page only draws the fields,
// sends what the person types, and shows the message Python gives each field.
// Messages to Python: {type: "form", revision, values}, {type: "attach", field, name, mime}
// with the file's bytes as the one buffer, {type: "detach", field, index}.

/** Milliseconds of quiet typing before the values go to Python. */
const FORM_DEBOUNCE_MS = 150;

let formFieldCount = 0;

/**
 * Draw a form into `root`; `send(content, buffers)` carries messages to Python.
 * Returns {update(state), values(), element}: update redraws the inputs only when the
 * revision, the model or the fields changed; otherwise it updates messages, notes, disabled
 * states, options and chips in place, so focus and caret survive.
 */
function renderForm(root, send) {
  const element = h("div", { className: "mw-form" });
  root.append(element);
  let drawn = null; // {revision, model, names} of the inputs on the page
  let fields = new Map(); // name -> {node, get(), apply(field)}
  let timer = null;

  function values() {
    const out = {};
    for (const [name, field] of fields) out[name] = field.get();
    return out;
  }
  function sendValues() {
    clearTimeout(timer);
    timer = null;
    if (drawn) send({ type: "form", revision: drawn.revision, values: values() });
  }
  const context = {
    /** Typing: the values go once the person pauses. */
    typed() {
      clearTimeout(timer);
      timer = setTimeout(sendValues, FORM_DEBOUNCE_MS);
    },
    /** A choice (select, checkbox, button): the values go at once. */
    chose: sendValues,
    /** Send what is still waiting (before a file or a removal, so the order holds). */
    flush() { if (timer !== null) sendValues(); },
    send,
  };

  function focused() {
    const active = document.activeElement;
    if (!active || !element.contains(active)) return null;
    const node = active.closest(".mw-field");
    return node ? { name: node.dataset.name, role: active.dataset.role || "" } : null;
  }

  function update(state) {
    if (!state || !Array.isArray(state.fields)) return;
    const names = state.fields.map((field) => `${field.name}:${field.kind}`).join("\n");
    const same =
      drawn && drawn.revision === state.revision && drawn.model === state.model &&
      drawn.names === names;
    if (same) {
      for (const field of state.fields) fields.get(field.name).apply(field);
      return;
    }
    const focus = focused();
    clearTimeout(timer); // what waited belongs to the inputs being replaced
    timer = null;
    fields = new Map();
    const nodes = state.fields.map((field) => {
      const built = buildField(field, context);
      fields.set(field.name, built);
      return built.node;
    });
    element.replaceChildren(...nodes);
    element.dataset.model = state.model || "";
    drawn = { revision: state.revision, model: state.model, names };
    if (focus && fields.has(focus.name)) {
      const again = fields.get(focus.name).node.querySelector(
        focus.role ? `[data-role="${focus.role}"]` : "input, textarea, select",
      );
      if (again) again.focus();
    }
  }

  return { update, values, element };
}

/** One field: its label, its input(s) (by kind), its note and its message. */
function buildField(field, context) {
  formFieldCount += 1;
  const id = `mw-field-${formFieldCount}`;
  const message = h("div", { className: "mw-field-message", id: `${id}-message`, "aria-live": "polite" });
  const note = h("div", { className: "mw-field-note" });
  const label = h("label", { className: "mw-field-label", htmlFor: id, text: field.label });
  const build = FIELD_KINDS[field.kind] || FIELD_KINDS.text;
  const input = build(field, context, id);
  const body = h("div", { className: "mw-field-body" }, input.nodes, note, message);
  const node = h(
    "div",
    { className: `mw-field mw-field-${field.kind}`, dataset: { name: field.name } },
    label,
    body,
  );
  if (input.dropZone) dropFiles(body, field, context);

  function apply(next) {
    label.title = next.tooltip || "";
    message.textContent = next.message || "";
    message.hidden = !next.message;
    note.textContent = next.note || "";
    note.hidden = !next.note;
    node.classList.toggle("mw-invalid", Boolean(next.message));
    node.classList.toggle("mw-disabled", Boolean(next.disabled));
    node.classList.toggle("mw-required", Boolean(next.required));
    for (const each of node.querySelectorAll("input, textarea, select, button")) {
      each.disabled = Boolean(next.disabled);
      if (each.dataset.role === "main") {
        each.setAttribute("aria-invalid", next.message ? "true" : "false");
        each.setAttribute("aria-describedby", message.id);
        each.title = next.tooltip || "";
      }
    }
    input.apply(next);
  }
  apply(field);
  return { node, get: input.get, apply };
}

/** Options of a select as [label, value] pairs, kept when they did not change. */
function setOptions(select, options) {
  const wanted = JSON.stringify(options || []);
  if (select.dataset.options === wanted) return;
  const chosen = select.value;
  select.replaceChildren(
    ...(options || []).map(([text, value]) => h("option", { value: String(value), text })),
  );
  select.dataset.options = wanted;
  if ((options || []).some(([, value]) => String(value) === chosen)) select.value = chosen;
}

function selectInput(field, context, id) {
  const select = h("select", { id, className: "mw-input", dataset: { role: "main" } });
  setOptions(select, field.options);
  select.value = String(field.value ?? "");
  select.addEventListener("change", context.chose);
  return {
    nodes: [select],
    get: () => select.value,
    apply(next) { setOptions(select, next.options); },
  };
}

/** A number typed by a person, as text: Python parses it (and says what is wrong). */
function numberText(input) {
  // A number input that holds something it cannot read reports "": say so instead.
  return input.validity && input.validity.badInput ? "not a number" : input.value;
}

const FIELD_KINDS = {
  text(field, context, id) {
    const input = field.multiline
      ? h("textarea", { id, className: "mw-input mw-text", rows: 3, dataset: { role: "main" } })
      : h("input", { id, type: "text", className: "mw-input mw-text", dataset: { role: "main" } });
    input.value = field.value ?? "";
    input.addEventListener("input", context.typed);
    input.addEventListener("change", context.flush);
    return {
      nodes: [input],
      get: () => input.value,
      apply(next) { input.placeholder = next.placeholder || ""; },
    };
  },

  enum: selectInput,
  tristate: selectInput,

  flag(field, context, id) {
    const box = h("input", { id, type: "checkbox", className: "mw-check", dataset: { role: "main" } });
    box.checked = Boolean(field.value);
    box.addEventListener("change", context.chose);
    return { nodes: [box], get: () => box.checked, apply() {} };
  },

  integer(field, context, id) {
    // A small range (num_images) gets a number input with its arrows; a seed a text one,
    // so what was typed stays as typed (Python says what is wrong with it).
    const ranged = !field.random && field.min !== null && field.min !== undefined &&
      field.max !== null && field.max !== undefined;
    const input = h("input", {
      id,
      type: ranged ? "number" : "text",
      inputMode: "numeric",
      className: "mw-input mw-number",
      dataset: { role: "main" },
    });
    if (ranged) {
      input.min = String(field.min);
      input.max = String(field.max);
      input.step = String(field.step || 1);
    }
    input.value = field.value ?? "";
    input.addEventListener("input", context.typed);
    input.addEventListener("change", context.flush);
    const nodes = [input];
    if (field.random) {
      const dice = h("button", {
        type: "button",
        className: "mw-button mw-seed-random",
        text: "random",
        title: field.random_tooltip || "",
        dataset: { role: "random" },
        on: {
          click() {
            input.value = String(Math.floor(Math.random() * ((field.random_max || 0) + 1)));
            context.chose();
          },
        },
      });
      nodes.push(dice);
    }
    return {
      nodes: [h("div", { className: "mw-row" }, nodes)],
      get: () => numberText(input),
      apply(next) { input.placeholder = next.placeholder || ""; },
    };
  },

  size(field, context, id) {
    const custom = field.custom_value;
    const preset = h("select", { id, className: "mw-input mw-size-preset", dataset: { role: "main" } });
    setOptions(preset, field.options);
    const value = field.value || {};
    preset.value = String(value.preset ?? "");
    const side = (role, text) => {
      const input = h("input", {
        type: "number",
        inputMode: "numeric",
        className: `mw-input mw-number mw-size-${role}`,
        dataset: { role },
        "aria-label": `${text} in pixels`,
      });
      input.value = value[role] ?? "";
      input.addEventListener("input", context.typed);
      input.addEventListener("change", context.flush);
      return input;
    };
    const width = side("width", "Width");
    const height = side("height", "Height");
    const row = h(
      "div",
      { className: "mw-row mw-size-custom" },
      h("label", { className: "mw-size-side" }, "width ", width),
      h("span", { className: "mw-size-times", text: "×" }),
      h("label", { className: "mw-size-side" }, "height ", height),
    );
    const showCustom = () => { row.hidden = preset.value !== custom; };
    showCustom();
    preset.addEventListener("change", () => { showCustom(); context.chose(); });
    return {
      nodes: [preset, row],
      get: () => ({ preset: preset.value, width: numberText(width), height: numberText(height) }),
      apply(next) {
        setOptions(preset, next.options);
        row.title = next.rules ? `Custom size: ${next.rules}` : "";
        showCustom();
      },
    };
  },

  images(field, context, id) {
    const urls = h("textarea", { id, className: "mw-input mw-urls", rows: 2, dataset: { role: "main" } });
    urls.value = field.value ?? "";
    urls.addEventListener("input", context.typed);
    urls.addEventListener("change", context.flush);
    const chips = h("div", { className: "mw-chips", role: "list" });
    const picker = h("input", {
      type: "file",
      multiple: true,
      accept: field.accept || "image/*",
      className: "mw-attach-input",
      dataset: { role: "files" },
    });
    picker.addEventListener("change", () => {
      attachFiles(picker.files, field, context);
      picker.value = ""; // the same file may be chosen again
    });
    const attach = h(
      "label",
      { className: "mw-button mw-attach" },
      h("span", { text: field.attach_label || "add image files" }),
      picker,
    );
    const row = h("div", { className: "mw-row mw-attach-row" }, attach, chips);
    return {
      nodes: [urls, row],
      dropZone: true,
      get: () => urls.value,
      apply(next) {
        urls.placeholder = next.placeholder || "";
        attach.title = next.attach_tooltip || "";
        drawChips(chips, next, context);
      },
    };
  },
};

/** The attached images as chips: name and size, and a button that removes each. */
function drawChips(chips, field, context) {
  const items = field.items || [];
  chips.replaceChildren(
    ...items.map((item, index) =>
      h(
        "span",
        { className: "mw-chip", role: "listitem", title: item.title || "" },
        h("span", { className: "mw-chip-label", text: item.label }),
        h("button", {
          type: "button",
          className: "mw-chip-remove",
          text: "×",
          disabled: Boolean(field.disabled),
          "aria-label": `Remove ${item.label}`,
          dataset: { index: String(index) },
          on: {
            click() {
              context.flush();
              context.send({ type: "detach", field: field.name, index });
            },
          },
        }),
      ),
    ),
  );
}

/** Send each file's bytes to Python, which checks it is an image it can use. */
function attachFiles(files, field, context) {
  const list = Array.from(files || []);
  if (!list.length) return;
  context.flush();
  for (const file of list) {
    const about = { type: "attach", field: field.name, name: file.name, mime: file.type || "" };
    if (field.max_file_bytes && file.size > field.max_file_bytes) {
      // Too big to send inline: Python says so (and what to do) without the bytes.
      context.send({ ...about, size: file.size });
      continue;
    }
    file.arrayBuffer().then(
      (buffer) => context.send(about, [buffer]),
      () => context.send({ ...about, unreadable: true }),
    );
  }
}

/** Files dropped on `zone` are attached like chosen ones. */
function dropFiles(zone, field, context) {
  const hasFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  zone.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    zone.classList.add("mw-drop-over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("mw-drop-over"));
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("mw-drop-over");
    if (!hasFiles(event)) return;
    event.preventDefault();
    if (!zone.closest(".mw-field").classList.contains("mw-disabled")) {
      attachFiles(event.dataTransfer.files, field, context);
    }
  });
}
