"""`tinyperf report`: one self-contained HTML page (plots inlined as PNG, no scripts, nothing fetched)
or a Markdown summary, for one or more sessions: summary table, per-window latency and energy, the
energy trace with its timestamp edges, the confusion matrix, the ad01 ROC curve, and a comparison.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from tinyperf.errors import ConfigError
from tinyperf.results.headlines import BY_KEY, HEADLINE_KEYS, headline_text
from tinyperf.results.jsonfiles import number, read_results

CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}.sim{color:#a40}.bad{color:#c00;font-weight:bold}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}section{margin-bottom:2.5em}"""


@dataclass(frozen=True)
class SessionView:
    root: Path
    data: dict

    @property
    def title(self) -> str:
        return f"{self.data['benchmark']} {self.data['mode']} on {self.data['board']}"


def load(session: Path) -> SessionView:
    file = session / "results.json"
    if not file.is_file():
        raise ConfigError(f"{session}: no results.json; pass session folders of finished runs")
    return SessionView(session, read_results(file))


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _window_plot(view: SessionView) -> str:
    windows = view.data.get("windows") or []
    if not windows:
        return ""
    energy = view.data["mode"] == "energy"
    values = [w["energy_per_inference_uj"] if energy else 1000.0 / w["throughput"] for w in windows]
    figure, axes = plt.subplots(figsize=(6, 2.6))
    axes.plot([str(w["index"]) for w in windows], values, "o", color="#4a7ab5", label="window")
    median = float(np.median(values))
    axes.axhline(median, color="#c33", linestyle="--", label="median")
    _zoom(axes, [*values, median])
    axes.set_xlabel("window")
    axes.set_ylabel(("uJ" if energy else "ms") + " / inference\n(zoomed: axis not from 0)")
    axes.legend(loc="best")
    return _png(figure)


def _zoom(axes: plt.Axes, values: list[float]) -> None:
    """A y axis around the values, so that a few percent show (bars from 0 would hide them)."""
    low, high = min(values), max(values)
    margin = max(high - low, 0.01 * abs(high) or 1e-9) * 0.5
    axes.set_ylim(low - margin, high + margin)


def _comparison_plot(names: list[str], changes: list[float | None], label: str) -> str:
    """Each session's change against the first, in percent: a delta chart, so 0 is 'no change'."""
    shown = [(n, c) for n, c in zip(names, changes, strict=True) if c is not None]
    if len(shown) < 2:
        return ""
    figure, axes = plt.subplots(figsize=(6, 0.5 + 0.4 * len(shown)))
    colours = ["#888" if c == 0 else "#4a7ab5" for _, c in shown]
    axes.barh([n for n, _ in shown], [c for _, c in shown], color=colours)
    axes.axvline(0, color="#333", linewidth=0.8)
    axes.invert_yaxis()
    axes.set_xlabel(f"{label}: change vs first session, % (delta chart)")
    return _png(figure)


def _trace_plot(view: SessionView) -> str:
    trace = view.root / "trace.npz"
    if not trace.is_file():
        return ""
    data = np.load(trace)
    energies, period = data["energies_j"], float(data["period_s"])
    voltage = (view.data.get("monitor") or {}).get("voltage_v") or 1.0
    current_ma = 1e3 * energies / period / voltage
    times = np.arange(len(energies)) * period
    figure, axes = plt.subplots(figsize=(9, 2.8))
    axes.plot(times, current_ma, linewidth=0.5, color="#333")
    for edge in data["edges"]:
        axes.axvline(edge * period, color="#c33", linewidth=0.8)
    axes.set_xlabel("s (red: timestamp edges)")
    axes.set_ylabel("mA")
    return _png(figure)


def _confusion(view: SessionView) -> str:
    matrix = view.data.get("confusion")
    names = view.data.get("class_names") or []
    if not matrix:
        return ""
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = "".join(f"<tr><th>{html.escape(names[i])}</th>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                   for i, row in enumerate(matrix))
    return f"<h3>Confusion matrix (rows: label, columns: prediction)</h3><table><tr><th></th>{head}</tr>{rows}</table>"


def roc_points(scores: list[float], labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) at every threshold, from (0, 0) to (1, 1)."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    sorted_labels = np.asarray(labels)[order]
    tp = np.concatenate([[0], np.cumsum(sorted_labels == 1)])
    fp = np.concatenate([[0], np.cumsum(sorted_labels == 0)])
    return fp / max(fp[-1], 1), tp / max(tp[-1], 1)


def _roc_plot(view: SessionView) -> str:
    samples = [s for s in view.data.get("samples", []) if "score" in s]
    if view.data.get("auc") is None or not samples:
        return ""
    fpr, tpr = roc_points([s["score"] for s in samples], [s["label"] for s in samples])
    figure, axes = plt.subplots(figsize=(3.6, 3.6))
    axes.plot(fpr, tpr, color="#4a7ab5", label=f"AUC {view.data['auc']:.3f}")
    axes.plot([0, 1], [0, 1], color="#aaa", linestyle=":")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.legend(loc="lower right")
    return "<h3>ROC curve</h3>" + _png(figure)


def _summary_rows(views: list[SessionView]) -> list[list[str]]:
    rows = []
    for view in views:
        d = view.data
        rows.append([view.root.name, str(d["board"]) + (" (SIMULATED)" if d.get("simulated") else ""),
                     d["benchmark"], d["mode"], "yes" if d.get("valid", True) else "INVALID", headline_text(d)])
    return rows


SUMMARY_HEAD = ["session", "board", "benchmark", "mode", "valid", "figures"]


def _comparison(views: list[SessionView]) -> str:
    """Sessions of the same benchmark and mode, side by side (the first is the reference)."""
    groups: dict[tuple[str, str], list[SessionView]] = {}
    for view in views:
        groups.setdefault((view.data["benchmark"], view.data["mode"]), []).append(view)
    parts = []
    for (benchmark, mode), group in groups.items():
        if len(group) < 2:
            continue
        key = next((k for k in HEADLINE_KEYS if group[0].data.get(k) is not None), None)
        if key is None:
            continue
        label, unit = BY_KEY[key].label, BY_KEY[key].unit
        base = number(group[0].data, key)
        changes = [_percent(number(v.data, key), base) for v in group]
        rows = "".join(f"<tr><td>{html.escape(v.root.name)}</td><td>{_figure(v.data, key)} {unit}</td>"
                       f"<td>{_change_text(change)}</td></tr>" for v, change in zip(group, changes, strict=True))
        parts.append(f"<h3>{html.escape(benchmark)} {html.escape(mode)}: {label}</h3><table><tr><th>session</th>"
                     f"<th>{label}</th>"
                     f"<th>vs first</th></tr>{rows}</table>"
                     + _comparison_plot([v.root.name for v in group], changes, label))
    return "<section><h2>Comparison</h2>" + "".join(parts) + "</section>" if parts else ""


def _figure(data: dict, key: str) -> str:
    value = number(data, key)
    return "n/a" if value is None else f"{value:.4g}"


def _change_text(change: float | None) -> str:
    return "n/a" if change is None else f"{change:+.2f} %"


def _percent(value: float | None, base: float | None) -> float | None:
    """Change against the first session; none against a zero or missing reference (no division by it)."""
    if value is None or base is None or base == 0:
        return None
    return 100 * (value / base - 1)


def html_report(views: list[SessionView]) -> str:
    head = "".join(f"<th>{h}</th>" for h in SUMMARY_HEAD)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in _summary_rows(views))
    simulated = any(v.data.get("simulated") for v in views)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>tinyperf report</title>"
             f"<style>{CSS}</style></head><body><h1>tinyperf report</h1>",
             "<p class='sim'>SIMULATED board figures come from a declared cycle model, not silicon.</p>" if simulated
             else "", f"<table id='summary'><tr>{head}</tr>{body}</table>", _comparison(views)]
    for view in views:
        problems = view.data.get("problems") or []
        parts.append(f"<section><h2>{html.escape(view.title)}</h2><p>{html.escape(headline_text(view.data))}</p>")
        if problems:
            parts.append(f"<p class='bad'>INVALID: {html.escape('; '.join(problems))}</p>")
        if view.data.get("windows"):
            parts.append("<h3>Per window</h3>" + _window_plot(view))
        if (view.root / "trace.npz").is_file():
            parts.append("<h3>Energy trace</h3>" + _trace_plot(view))
        parts.append(_confusion(view) + _roc_plot(view) + "</section>")
    parts.append("</body></html>")
    return "".join(parts)


def markdown_report(views: list[SessionView]) -> str:
    lines = ["# tinyperf report", "", "| " + " | ".join(SUMMARY_HEAD) + " |", "|" + "---|" * len(SUMMARY_HEAD)]
    lines += ["| " + " | ".join(row) + " |" for row in _summary_rows(views)]
    if any(v.data.get("simulated") for v in views):
        lines += ["", "SIMULATED board figures come from a declared cycle model, not silicon."]
    return "\n".join(lines) + "\n"
