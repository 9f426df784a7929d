"""The whatif page (a file, so AppTest can switch to it)."""

from ui import whatif

whatif.page()
