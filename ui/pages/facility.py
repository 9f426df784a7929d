"""The facility page (a file, so AppTest can switch to it)."""

from ui import facility

facility.page()
