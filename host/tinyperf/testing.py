"""Budget assertions for hardware-in-the-loop tests: latency, energy and accuracy against a run's
figures, each failing with the measured value, the budget and where the run's files are.

Used through the pytest plugin's `tinyperf_run` fixture, or on any RunOutcome / results.json dict.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.run.runner import RunOutcome


class BudgetExceeded(AssertionError):
    """A measured figure is outside its budget; the message says by how much and which session."""


def _figures(result: RunOutcome | dict) -> tuple[dict, str]:
    if isinstance(result, RunOutcome):
        return result.figures, str(result.session.root)
    return result, str(result.get("session", "?"))


def _need(figures: dict, key: str, what: str) -> float:
    if figures.get(key) is None:
        raise BudgetExceeded(f"the run has no {what} ({key!r}); run it in the mode that measures it")
    return float(figures[key])


def _valid(figures: dict, where: str) -> None:
    if not figures.get("valid", True):
        raise BudgetExceeded(f"the run is INVALID ({'; '.join(figures.get('problems', []))}); see {where}")


def _within_ceiling(result: RunOutcome | dict, key: str, what: str, unit: str, ceiling: float) -> float:
    figures, where = _figures(result)
    _valid(figures, where)
    value = _need(figures, key, what)
    if value > ceiling:
        raise BudgetExceeded(f"median {what} {value:.3f} {unit} exceeds the {ceiling:g} {unit.split('/')[0]} budget "
                             f"by {100 * (value / ceiling - 1):.1f} %; session {where}")
    return value


def assert_latency_budget(result: RunOutcome | dict, max_ms: float) -> float:
    """Median latency (ms per inference, from the 5 performance windows) must be <= max_ms."""
    return _within_ceiling(result, "latency_ms", "latency", "ms", max_ms)


def assert_energy_budget(result: RunOutcome | dict, max_uj: float) -> float:
    """Median energy per inference (uJ, energy mode) must be <= max_uj."""
    return _within_ceiling(result, "median_energy_uj", "energy", "uJ/inf.", max_uj)


def assert_accuracy_floor(result: RunOutcome | dict, min_top1_percent: float | None = None,
                          min_auc: float | None = None) -> float:
    """Top-1 (kws01, vww01, ic01) or AUC (ad01) must be at least the floor given."""
    figures, where = _figures(result)
    _valid(figures, where)
    if (min_top1_percent is None) == (min_auc is None):
        raise ValueError("give exactly one of min_top1_percent= (classifiers) or min_auc= (ad01)")
    if min_auc is not None:
        auc = _need(figures, "auc", "AUC (an ad01 accuracy run)")
        if auc < min_auc:
            raise BudgetExceeded(f"AUC {auc:.4f} is below the floor {min_auc:g}; session {where}")
        return auc
    top1 = _need(figures, "top1_percent", "top-1 accuracy (a classifier's accuracy run)")
    if top1 < float(min_top1_percent):  # type: ignore[arg-type]
        raise BudgetExceeded(f"top-1 {top1:.2f} % is below the floor {min_top1_percent:g} %; session {where}")
    return top1


JUNIT_FIGURES = ("latency_ms", "median_throughput", "cv_percent", "median_energy_uj", "median_power_mw",
                 "top1_percent", "auc", "valid")


def junit_properties(result: RunOutcome, mode: str) -> list[tuple[str, object]]:
    """The figures a CI dashboard plots, as (name, value) pairs for JUnit XML <property> elements."""
    properties: list[tuple[str, object]] = [
        ("tinyperf.board", result.board.id),
        ("tinyperf.benchmark", result.identity.model),
        ("tinyperf.mode", mode),
        ("tinyperf.run.session", str(Path(result.session.root))),
    ]
    if result.board.simulated:
        properties.append(("tinyperf.simulated", True))
    for key in JUNIT_FIGURES:
        if result.figures.get(key) is not None:
            value = result.figures[key]
            properties.append((f"tinyperf.{key}", round(value, 6) if isinstance(value, float) else value))
    return properties
