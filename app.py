"""AI Factory Twin — the what-if app. A router only: pages live in ui/, computation in twin/ and optimizer/.

Run: `make run` (the reference facility), or `streamlit run app.py -- SPEC.yaml`.
"""

from pathlib import Path

import streamlit as st

from ui import state

PAGES = Path(__file__).resolve().parent / "ui" / "pages"

st.set_page_config(page_title="AI Factory Twin", layout="wide")
state.init()
state.example_picker()
st.navigation([
    st.Page(PAGES / "whatif.py", title="What-if", url_path="whatif", default=True),
    st.Page(PAGES / "facility.py", title="Facility", url_path="facility"),
    st.Page(PAGES / "simulate.py", title="Simulate", url_path="simulate"),
    st.Page(PAGES / "plan.py", title="Plan", url_path="plan"),
    st.Page(PAGES / "roadmap.py", title="Roadmap", url_path="roadmap"),
    st.Page(PAGES / "compare.py", title="Compare", url_path="compare"),
    st.Page(PAGES / "operate.py", title="Operate", url_path="operate"),
]).run()
