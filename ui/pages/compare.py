"""The compare page (a file, so AppTest can switch to it)."""

from ui import compare

compare.page()
