"""The roadmap page (a file, so AppTest can switch to it)."""

from ui import roadmap

roadmap.page()
