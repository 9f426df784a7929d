"""The scorecard: one report answering an executive's questions about a factory, as HTML (with plots) or Markdown.

`build_scorecard` computes (`data`, `failures`); `render_html` and `render_markdown` draw
(`render`, `charts`). Nothing here reads or writes files.
"""
