"""The table a finished run prints: figures by mode, rule windows, validity, scenarios, the sww01
stream's counts and the accuracy confusion matrix, readable at 80 columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table

from tinyperf.cli.common import console

if TYPE_CHECKING:
    from tinyperf.run.runner import RunOutcome


def _add_window_rows(table: Table, figures: dict) -> None:
    """The rule-window rows that performance and energy runs share."""
    table.add_row("windows x inferences", f"{len(figures['windows'])} x {figures['windows'][0]['count']}")
    _add_valid_row(table, figures)


def _add_valid_row(table: Table, figures: dict) -> None:
    """Rules followed and submittable are two questions: a simulated or smoke-set run can follow every rule."""
    problems = "; ".join(figures["problems"])
    table.add_row("rules followed (MLPerf)", "yes" if figures["valid"] else f"[red]NO: {problems}")
    if "data" in figures and figures["data"]["kind"] != "none":
        table.add_row("data", f"{figures['data']['kind']}: {figures['data']['reason']}")
    if "submittable" in figures:
        sub = figures["submittable"]
        table.add_row("submittable (closed)", "yes" if sub["closed"] else "[yellow]no: " + "; ".join(sub["reasons"]))
    if "truth" in figures:
        truth = figures["truth"]
        table.add_row("simulated truth", f"{truth['latency_ms']:.3f} ms/inf."
                      + (f", {truth['energy_uj']:.3f} uJ/inf." if "energy_uj" in truth else "")
                      + " (declared models)")


def _add_wakeword_rows(table: Table, f: dict) -> None:
    w, d = f["wakeword"], f["dutycycle"]
    table.add_row("wakewords found", f"{w['true_positives']} TP, {w['false_negatives']} FN, "
                  f"{w['false_positives']} FP (F1 {w['f1']:.3f}, {w['rule']} rule)")
    other = f["alternative_score"]
    table.add_row(f"{other['rule']} rule", f"{other['true_positives']} TP, {other['false_negatives']} FN, "
                  f"{other['false_positives']} FP")
    table.add_row("duty cycle", f"{d['duty_cycle']:.4f} ({1e3 * d['processing_s']:.3f} ms per "
                  f"{1e3 * d['period_s']:.3f} ms frame, {d['frames']} frames)")
    table.add_row("estimated throughput", f"{d['throughput']:.3f} inf./s")
    if "energy" in f:
        e = f["energy"]
        table.add_row("average power", f"{e['power_mw']:.4f} mW over {e['seconds']:.2f} s")


def _add_scenario_rows(table: Table, f: dict) -> None:
    """--single-stream and --offline figures, shown as well as written."""
    if f.get("single_stream"):
        ss = f["single_stream"]
        table.add_row("single-stream latency", f"p50 {ss['p50_ms']:.3f} / p90 {ss['p90_ms']:.3f} / p99 "
                      f"{ss['p99_ms']:.3f} ms ({ss['queries']} inferences)")
    if f.get("offline"):
        off = f["offline"]
        table.add_row("offline throughput", f"{off['throughput']:.3f} inf./s ({off['inferences']} inferences in "
                      f"{off['seconds']:.2f} s)")


def render_outcome(outcome: RunOutcome, mode: str) -> None:
    from tinyperf.suite.scoring import auc_text

    f = outcome.figures
    sim = f" [bold yellow]({outcome.board.kind})[/]" if outcome.board.kind != "hardware" else ""
    if outcome.firmware is not None and outcome.firmware.engine == "test":
        sim += " [bold yellow](test engine)[/]"
    table = Table(title=f"{outcome.identity.model} {mode} on {outcome.board.id}{sim}")
    table.add_column("figure", no_wrap=True)
    table.add_column("value", overflow="fold")
    if "wakeword" in f:
        _add_wakeword_rows(table, f)
    elif mode == "energy":
        table.add_row("median energy", f"{f['median_energy_uj']:.3f} uJ/inf. (+-{f['uncertainty_uj']:.3f})")
        table.add_row("median power", f"{f['median_power_mw']:.3f} mW")
        table.add_row("latency (monitor edges)", f"{f['latency_ms']:.3f} ms")
        table.add_row("sum-between-events method", f"{f['naive_median_energy_uj']:.3f} uJ/inf. (comparison)")
        table.add_row("monitor", f"{f['monitor']['kind']} at {f['monitor']['rate_hz']} Hz")
        if f.get("duty_cycle"):
            dc = f["duty_cycle"]
            table.add_row("duty-cycled power", f"{dc['average_power_mw']:.4f} mW ({dc['requests']} requests at "
                          f"{dc['rate_hz']:g}/s, {dc['arrivals']})")
            table.add_row("duty-cycled energy", f"{dc['energy_per_day_j']:.1f} J/day, "
                          f"{dc['energy_per_request_uj']:.1f} uJ/request")
        _add_window_rows(table, f)
    elif mode == "performance":
        table.add_row("median throughput", f"{f['median_throughput']:.3f} inf./s")
        table.add_row("latency", f"{f['latency_ms']:.3f} ms")
        table.add_row("window min / max", f"{f['min_throughput']:.3f} / {f['max_throughput']:.3f} inf./s")
        table.add_row("window CV", f"{f['cv_percent']:.2f} %")
        _add_window_rows(table, f)
        _add_scenario_rows(table, f)
        consistency = f.get("consistency")
        if consistency:
            table.add_row("repeat consistency", "yes" if consistency["consistent"] else
                          f"[red]NO: {len(consistency['mismatches'])} windows differ from one infer 1 0")
    elif "auc" in f:
        table.add_row("AUC", auc_text(f["auc"]))
        table.add_row("samples", str(len(f["samples"])))
    else:
        table.add_row("top-1", f"{f['top1_percent']:.2f} %")
        table.add_row("samples", str(len(f["samples"])))
    if mode == "accuracy" or "wakeword" in f:
        _add_valid_row(table, f)
    link = f.get("link")
    if link:
        table.add_row("link", f"{link['protocol']} at {link['baud']} baud; {link['recoveries']} recoveries"
                      + (f", {link['frames_resent']} frames resent" if "frames_resent" in link else ""))
    table.add_row("model", outcome.model.label)
    if mode == "accuracy" or "wakeword" in f:
        table.add_row("dataset", outcome.dataset_note)
    console.print(table)
    if mode == "accuracy" and "confusion" in f:
        console.print(_confusion_table(f))
    console.print(f"session folder: {outcome.session.root}", soft_wrap=True, highlight=False)


def _confusion_table(figures: dict) -> Table:
    """Per-class accuracy and the confusion matrix (rows: true class, columns: predicted)."""
    names = figures["class_names"]
    table = Table(title="confusion matrix (rows: true class, columns: predicted)", box=box.SIMPLE_HEAD,
                  pad_edge=False, padding=(0, 0))
    table.add_column("true", no_wrap=True)
    width = 1 + max(3, len(str(max(max(row) for row in figures["confusion"]))))
    for name in names:
        table.add_column(name[:3], justify="right", no_wrap=True, min_width=width)
    table.add_column("accuracy", justify="right", no_wrap=True, min_width=9)
    for index, (name, row) in enumerate(zip(names, figures["confusion"], strict=True)):
        cells = [f"[bold]{n}[/]" if i == index else (str(n) if n else "[dim]0[/]") for i, n in enumerate(row)]
        percent = figures["per_class_percent"][index]
        table.add_row(name, *cells, "-" if percent is None else f"{percent:.1f}%")
    return table
