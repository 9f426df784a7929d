"""The simulate page (a file, so AppTest can switch to it)."""

from ui import simulate

simulate.page()
