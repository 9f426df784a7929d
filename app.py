"""AI Factory Twin — the what-if app. A router only: pages live in ui/, computation in twin/ and optimizer/.

Run: `make run` (the reference facility), or `streamlit run app.py -- SPEC.yaml`.
"""

import streamlit as st

from ui import facility, state

st.set_page_config(page_title="AI Factory Twin", layout="wide")
state.init()
pages = [
    st.Page(facility.page, title="Facility", url_path="facility", default=True),
]
st.navigation(pages).run()
