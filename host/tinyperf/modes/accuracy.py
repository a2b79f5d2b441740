"""Accuracy mode: every dataset row, `infer 1 0` per device-sized input, scored as MLPerf Tiny does."""

from __future__ import annotations

import statistics

from tinyperf.datasets import Sample
from tinyperf.dut import Device
from tinyperf.models import ModelEntry
from tinyperf.modes import Journal, NoProgress, ProgressSink
from tinyperf.scoring import argmax, roc_auc, top1

INFER_ONE_TIMEOUT_S = 30.0


def run_accuracy(
    device: Device,
    samples: list[Sample],
    entry: ModelEntry,
    journal: Journal = lambda record: None,
    progress: ProgressSink = NoProgress(),
) -> dict:
    progress.start("accuracy samples", len(samples))
    records = []
    for sample in samples:
        data = sample.path.read_bytes()
        outputs = []
        for piece in sample.windows(data):
            device.load(piece)
            outputs.append(device.infer(1, 0, INFER_ONE_TIMEOUT_S).values)
        record: dict = {"name": sample.name, "label": sample.label, "windows": len(outputs)}
        if entry.scoring == "auc":
            record["score"] = statistics.fmean(values[0] for values in outputs)
        else:
            record["values"] = list(outputs[0])
            record["prediction"] = entry.official_class(argmax(outputs[0]))
        journal({"event": "sample", **record})
        records.append(record)
        progress.advance()
    return score(records, entry)


def score(records: list[dict], entry: ModelEntry) -> dict:
    labels = [r["label"] for r in records]
    if entry.scoring == "auc":
        auc = roc_auc([r["score"] for r in records], labels)
        figures = {"auc": auc, "meets_target": bool(auc >= entry.accuracy_target)}
    else:
        figures = top1([r["prediction"] for r in records], labels, len(entry.labels))
        figures["meets_target"] = bool(figures["top1_percent"] >= entry.accuracy_target)
    return {**figures, "target": entry.accuracy_target, "class_names": list(entry.labels),
            "samples": records}
