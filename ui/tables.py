"""Tables and downloads on a page: every table is shown formatted (ui.fmt) and offered raw as CSV.

`show(df, key)` is the one way a page puts a table on screen, so no raw float reaches the reader
and every table can be taken away; `download_parquet` is for long series (the hourly year).
"""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from ui import fmt


def show(df: pd.DataFrame, key: str, *, file: str, units: dict[str, str] | None = None, index_label: str | None = None,
         caption: str | None = None) -> None:
    """`df` formatted for reading, with a button to download it raw as `file` (CSV)."""
    view = fmt.frame(df, units)
    if index_label is not None:
        view.index.name = index_label
    st.dataframe(view, key=key, hide_index=index_label is None and isinstance(df.index, pd.RangeIndex))
    if caption:
        st.caption(caption)
    download_csv(df, file, key=f"{key}_csv", index=not isinstance(df.index, pd.RangeIndex))


def show_kpis(df: pd.DataFrame, key: str, *, file: str) -> None:
    """A table whose rows are KPIs (index = KPI keys), each row in its own unit, with its raw CSV."""
    st.dataframe(fmt.kpi_rows(df), key=key)
    download_csv(df, file, key=f"{key}_csv", index=True)


def download_csv(df: pd.DataFrame, file: str, *, key: str, index: bool = False, label: str | None = None) -> None:
    """A CSV download of `df` with full-precision numbers, written only when clicked (a lever move stays fast)."""
    st.download_button(label or f"Download {file}", lambda: df.to_csv(index=index).encode("utf-8"), file_name=file, mime="text/csv",
                       key=key, on_click="ignore")


def download_parquet(df: pd.DataFrame, file: str, *, key: str, label: str | None = None) -> None:
    """A Parquet download of `df` (compact and typed: the hourly year, event logs), written only when clicked."""
    def data() -> bytes:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()

    st.download_button(label or f"Download {file}", data, file_name=file, mime="application/vnd.apache.parquet", key=key, on_click="ignore")
