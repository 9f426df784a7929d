"""The operate page (a file, so AppTest can switch to it)."""

from ui import operate

operate.page()
