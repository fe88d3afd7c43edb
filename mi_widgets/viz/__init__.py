"""Shared bokeh / nglview / ipywidgets helpers: palette, theme, panes, banner, uploads."""
