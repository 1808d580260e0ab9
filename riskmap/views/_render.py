"""Render folium maps without compiling every rendered piece again as a Jinja template.

branca's ``MacroElement.render`` renders each element's ``header``, ``html`` and ``script``
macros to text and wraps each text in a new ``Element(text)``, which *compiles that text as a
Jinja template* before rendering it once more. For a map of many locations that second compile
is most of the rendering time (the layers' data are long strings), and it changes nothing: a text
without template syntax renders to itself. :func:`quick_render` keeps such texts as they are;
a text that holds template syntax (``{{``, ``{%``, ``{#``) or a carriage return goes the usual
way, so the page is the same, character for character (``tests/test_maps.py`` checks it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from branca.element import Element, Figure, MacroElement

#: What Jinja would read as syntax, or normalise (line endings), in a rendered text.
_SYNTAX = ("{{", "{%", "{#", "\r")
_lock = threading.RLock()
_depth = 0
_branca_render = MacroElement.render


class _Rendered(Element):
    """A piece of the page already rendered: kept as it is, as Jinja would render it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        # Jinja drops one trailing newline of a template (``keep_trailing_newline=False``).
        self._text = text.removesuffix("\n")

    def render(self, **kwargs: object) -> str:
        """Return the text."""
        return self._text


def _piece(text: str) -> Element:
    return Element(text) if any(s in text for s in _SYNTAX) else _Rendered(text)


def _render(self: MacroElement, **kwargs: object) -> None:
    """Do what ``MacroElement.render`` does, without compiling the rendered texts again."""
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("You cannot render this Element if it is not in a Figure.")
    macros = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = macros.get(part)
        if macro is not None:
            getattr(figure, part).add_child(_piece(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


@contextmanager
def quick_render() -> Iterator[None]:
    """Render folium elements in this block without the second template compile.

    The page is the same as branca renders it; while the block runs, renders in other threads
    take the quick way too (the same output). Blocks may nest and run in several threads.
    """
    global _depth
    with _lock:
        _depth += 1
        MacroElement.render = _render  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                MacroElement.render = _branca_render  # type: ignore[method-assign]
