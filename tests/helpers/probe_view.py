"""A tiny view for testing the views' base in real front-ends (JupyterLab, Notebook 7, marimo).

``Probe`` has one counter trait: the page shows it (``.mw-probe-count``), its button
(``button.mw-probe-bump``) asks Python to add one, and its fallback output shows the counter and
a label (escaped: the label may carry markup that must show as text). ``bump_later`` adds one
from a background thread, the way a finished run changes a view while the kernel is idle.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import traitlets

from mountsea_widgets.widgets import _page, _view

#: The probe's page code: common.js's ``connect`` plus a counter and a button.
PROBE_SCRIPT = """
export default {
  render({ model, el }) {
    const count = h("span", { className: "mw-probe-count" });
    const problem = h("div", { className: "mw-problem" });
    let conn = null;
    const button = h("button", {
      className: "mw-probe-bump",
      text: "Add one",
      on: { click: () => conn.send({ type: "bump" }) },
    });
    const root = h("div", { className: "mw-root mw-probe" },
      h("span", { className: "mw-probe-label", text: model.get("label") }), " ", count, " ",
      button, problem);
    el.append(root);
    conn = connect(model, root, (content) => {
      if (content.type === "problem") problem.textContent = content.text;
    });
    const draw = () => { count.textContent = `Count: ${model.get("count")}`; };
    draw();
    model.on("change:count", draw);
    return () => { conn.dispose(); model.off("change:count", draw); };
  },
};
"""


class Probe(_view.View):
    """A counter view: ``count`` is synced, page messages ``bump`` add one."""

    _esm = _page.page_module() + "\n// --- probe\n" + PROBE_SCRIPT
    _css = _page.page_style()

    count = traitlets.Int(0).tag(sync=True)
    label = traitlets.Unicode("probe").tag(sync=True)

    def __init__(self, label: str = "probe", **kwargs: Any) -> None:
        super().__init__(label=label, **kwargs)
        self.view_kind = "probe"
        self.on_page("bump", self._bump)

    def _bump(self, _content: dict[str, Any], _buffers: list[bytes]) -> None:
        self.bump()

    def bump(self) -> None:
        """Add one and have the fallback output rewritten."""
        self.count += 1
        self.refresh_fallback()

    def bump_later(self, delay_s: float = 0.3, times: int = 1) -> threading.Thread:
        """Add one ``times`` times from a background thread, ``delay_s`` from now."""

        def work() -> None:
            for _ in range(times):
                self.bump()

        timer = threading.Timer(delay_s, work)
        timer.daemon = True
        timer.start()
        return timer

    def fallback_html(self) -> str:
        return (
            f'<p class="mw-probe-saved">{html.escape(self.label)} · Saved count: {self.count}</p>'
        )
