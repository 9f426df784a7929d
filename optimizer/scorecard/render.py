"""The scorecard as a self-contained HTML page (plotly.js inlined: it opens offline) or as Markdown (tables only)."""

from __future__ import annotations

import html

from optimizer.cli.output import fmt
from optimizer.scorecard import charts
from optimizer.scorecard.data import Scorecard

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:14px}th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}h1{margin-bottom:.1em}.sub{color:#666}.kpis{display:flex;flex-wrap:wrap;gap:12px}
.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px}.kpi b{display:block;font-size:22px}"""


def _sections(sc: Scorecard) -> list[tuple[str, list]]:
    """Each section: a title and its blocks, ('p', text) | ('table', columns, rows) | ('list', items) | ('fig', figure)."""
    k = sc.evaluation.kpis
    calibrated = " (twin calibrated on the telemetry)" if sc.calibration else ""
    head = [("kpis", [("cost per million tokens", f"${k['cost_per_million_tokens_usd']:.3f}"),
                      ("output tokens/s at SLA", fmt(k["output_tokens_per_s"])), ("output tokens per year", f"{k['output_tokens_per_year']:.3g}"),
                      ("annual cost", f"${k['annual_cost_usd'] / 1e6:,.1f} M"), ("PUE", f"{k['pue']:.3f}"), ("availability", f"{k['availability']:.5f}"),
                      ("GPU utilization", f"{k['utilization']:.0%}")]),
            ("p", f"Expected for the workload as specified{calibrated}: annual cost over output tokens served at SLA."),
            ("table", ["category", "USD/yr", "USD per million tokens"],
             [[c, v, v / (k["output_tokens_per_year"] / 1e6)] for c, v in sorted(sc.evaluation.cost_breakdown_usd.items(), key=lambda kv: -kv[1]) if v]),
            ("fig", charts.cost_breakdown(sc))]
    plan = [("table", ["deployment", "GPUs", "models", "capacity tok/s", "mean utilization", "peak utilization", "availability"],
             [[u["deployment"], u["gpus"], u["models"], u["capacity_tokens_per_s"], f"{u['mean_utilization']:.0%}", f"{u['peak_utilization']:.0%}",
               u["availability"]] for u in sc.utilization]),
            ("fig", charts.daily_profile(sc))]
    return [("Expected cost per token", head), ("Utilization plan", plan), ("Measured against the twin", _measured(sc)),
            ("Failure modes", _failures(sc)), ("Scaling path", _scaling(sc)), ("Cost allocation", _tenants(sc))]


def _measured(sc: Scorecard) -> list:
    if sc.calibration is None:
        return [("p", "No telemetry given. Run `aift scorecard SPEC --telemetry DIR` with DCGM and serving-engine scrapes and meter tables "
                      "to compare the twin with what the factory measures.")]
    c = sc.calibration
    rows = [[r["metric"], r["measured"] if r["measured"] is not None else "not measured",
             r.get("measured_p95", "-") if r.get("measured_p95") is not None else "-", r["twin"] if r["twin"] is not None else "-"]
            for r in sc.measured_rows]
    fits = [[f["deployment"], f["quantity"], f["value"], f["se"], f["since"] or "-"] for f in c.fits]
    blocks = [("p", f"Telemetry: {c.calibration.fitted_from}. The twin's figures are at the measured load and weather, before calibration."),
              ("table", ["metric", "measured", "measured p95", "twin"], rows),
              ("table", ["deployment", "fitted", "value", "std error", "since"], fits),
              ("list", c.drift or ["Everything within 2 % of the twin."]),
              ("fig", charts.measured_vs_twin(c.series))]
    return blocks


def _failures(sc: Scorecard) -> list:
    f = sc.failures
    rows = [[r["scenario"], r["what"], r["lost_tokens_per_s"] if r["lost_tokens_per_s"] is not None else "-",
             r["hours"] if r["hours"] is not None else "-", r["tokens_lost"] if r["tokens_lost"] is not None else "-",
             r["per_year"] if r["per_year"] is not None else "-"] for r in f["rows"]]
    year = f["simulated"]
    lines = [f"{name.replace('_', ' ')}: p5 {fmt(b['p5'])}, p50 {fmt(b['p50'])}, p95 {fmt(b['p95'])}" for name, b in year.items()]
    return [("p", "Single events at the peak hour, absorbed by spare capacity where there is some; how often from the fleet simulation "
                  f"({f['replications']} simulated years, seed {f['seed']}, a x1.5 demand spike a month)."),
            ("table", ["scenario", "what", "tokens/s lost", "for hours", "tokens lost", "events per year"], rows),
            ("p", "Simulated year:"), ("list", lines)]


def _scaling(sc: Scorecard) -> list:
    s = sc.scaling
    if s.get("skipped"):
        return [("p", "Planner not run (--no-plan).")]
    if "error" in s:
        return [("p", f"The planner found no plan: {s['error']}")]
    keys = ["cost_per_million_tokens_usd", "output_tokens_per_s", "annual_cost_usd", "capex_usd", "gpus", "pue"]
    return [("p", f"The planner's layout for this site ({s['objective']}), scored by the twin, against the facility as built "
                  "(both uncalibrated: the planner works from the catalog's figures)."),
            ("table", ["hall", "system (@ systems per rack)", "racks built", "racks in the plan"], [[r["hall"], r["system"], r["built"], r["racks"]] for r in s["racks"]]),
            ("table", ["figure", "as built", "plan"], [[key, s["now"].get(key), s["plan"].get(key)] for key in keys]),
            ("p", "Binding limits: " + (", ".join(s["binding"]) or "none"))]


def _tenants(sc: Scorecard) -> list:
    rows = [[t.tenant, ", ".join(t.models), t.output_tokens_per_year, t.gpus, t.showback_usd, t.showback_usd_per_million_tokens or "-",
             t.chargeback_usd, t.chargeback_usd_per_million_tokens or "-"] for t in sc.tenants]
    total = sum(t.showback_usd for t in sc.tenants)
    blocks = [("p", "Showback splits the annual cost by tokens served; chargeback by reserved GPUs (a workload model's `tenant`). "
                    f"Both add up to the annual cost, ${total:,.0f}."),
              ("table", ["tenant", "models", "tokens/yr", "GPUs", "showback USD/yr", "USD/Mtok", "chargeback USD/yr", "USD/Mtok"], rows),
              ("fig", charts.tenants(sc))]
    measured = sc.calibration.measured.tenant_tokens if sc.calibration else {}
    if sum(measured.values()) > 0:
        whole = sum(measured.values())
        blocks += [("p", "Measured: output tokens per tenant over the telemetry period (by the mapping's `tenant`, else the model's), "
                         "and the annual cost split by those shares."),
                   ("table", ["tenant", "tokens measured", "share", "showback USD/yr at the measured shares"],
                    [[t, n, f"{n / whole:.1%}", total * n / whole] for t, n in sorted(measured.items())])]
    return blocks


def render_markdown(sc: Scorecard) -> str:
    out = [f"# Scorecard: {sc.name}", "", f"{sc.source}, {sc.generated}. Plots are in the HTML version.", ""]
    for title, blocks in _sections(sc):
        out += [f"## {title}", ""]
        for b in blocks:
            if b[0] == "kpis":
                out += [f"- **{name}**: {value}" for name, value in b[1]] + [""]
            elif b[0] == "p":
                out += [b[1], ""]
            elif b[0] == "list":
                out += [f"- {x}" for x in b[1]] + [""]
            elif b[0] == "table":
                out += ["| " + " | ".join(b[1]) + " |", "|" + "---|" * len(b[1])]
                out += ["| " + " | ".join(fmt(v).replace("|", "/") for v in row) + " |" for row in b[2]] + [""]
    return "\n".join(out)


def render_html(sc: Scorecard) -> str:
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Scorecard: {html.escape(sc.name)}</title><style>{CSS}</style></head><body>",
             f"<h1>Scorecard: {html.escape(sc.name)}</h1><p class='sub'>{html.escape(sc.source)}, {html.escape(sc.generated)}</p>"]
    first_figure = True
    for title, blocks in _sections(sc):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for b in blocks:
            if b[0] == "kpis":
                parts.append("<div class='kpis'>" + "".join(f"<div class='kpi'>{html.escape(n)}<b>{html.escape(v)}</b></div>" for n, v in b[1]) + "</div>")
            elif b[0] == "p":
                parts.append(f"<p>{html.escape(b[1])}</p>")
            elif b[0] == "list":
                parts.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in b[1]) + "</ul>")
            elif b[0] == "table":
                head = "".join(f"<th>{html.escape(c)}</th>" for c in b[1])
                body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in b[2])
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif b[0] == "fig":
                parts.append(b[1].to_html(full_html=False, include_plotlyjs=first_figure))
                first_figure = False
    parts.append("</body></html>")
    return "\n".join(parts)


def _cell(v) -> str:
    numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
    return f"<td class='n'>{html.escape(fmt(v))}</td>" if numeric else f"<td>{html.escape(fmt(v))}</td>"
