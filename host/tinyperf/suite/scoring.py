"""Accuracy figures as MLPerf Tiny defines them: top-1 with per-class detail, and ROC AUC."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def top1(predictions: Sequence[int], labels: Sequence[int], num_classes: int) -> dict:
    """Top-1 %, per-class accuracy % and the confusion matrix (rows: true, columns: predicted)."""
    confusion = np.zeros((num_classes, num_classes), dtype=int)
    for predicted, label in zip(predictions, labels, strict=True):
        confusion[label, predicted] += 1
    per_class = [
        float(100.0 * confusion[c, c] / confusion[c].sum()) if confusion[c].sum() else None
        for c in range(num_classes)
    ]
    total = int(confusion.sum())
    return {
        "top1_percent": float(100.0 * np.trace(confusion) / total) if total else 0.0,
        "per_class_percent": per_class,
        "confusion": confusion.tolist(),
    }


def auc_text(auc: float | None) -> str:
    """An AUC for people: None (every sample of one class failed) reads as undefined."""
    return "undefined" if auc is None else f"{auc:.3f}"


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve = P(score of an anomaly > score of a normal), ties count half."""
    scores_arr = np.asarray(scores, dtype=float)
    labels_arr = np.asarray(labels, dtype=int)
    positives = scores_arr[labels_arr == 1]
    negatives = scores_arr[labels_arr == 0]
    if not len(positives) or not len(negatives):
        raise ValueError("ROC AUC needs at least one normal (0) and one anomalous (1) sample")
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))


def argmax(values: Sequence[float]) -> int:
    """First index of the largest value, as the reference runner picks it."""
    return int(np.argmax(np.asarray(values)))
