"""A compact ipywidgets button, for the views that are still built of ipywidgets."""

from __future__ import annotations

import ipywidgets as widgets


def action_button(description: str, css: str, tooltip: str, icon: str = "") -> widgets.Button:
    """A compact button with a tooltip, a Font Awesome ``icon`` and a CSS class tests can find."""
    button = widgets.Button(
        description=description, tooltip=tooltip, icon=icon, layout=widgets.Layout(width="auto")
    )
    button.add_class(css)
    return button
