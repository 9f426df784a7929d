"""The plan page (a file, so AppTest can switch to it)."""

from ui import plan

plan.page()
