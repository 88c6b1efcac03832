"""Pictures of a Graph: Graphviz DOT text, and SVG/PNG through Graphviz's `dot` (`archc graph`)."""

from __future__ import annotations

from .graph import RenderError, to_dot, write

__all__ = ["RenderError", "to_dot", "write"]
