"""Accuracy mode: every dataset row, `infer 1 0` per device-sized input, scored as MLPerf Tiny does.

Over the tinyperf extension the next input downloads into the second buffer while the device infers
on the first, and an ad01 file goes to the device once (it slides the window itself). A fault (lost
frame past its retries, hang, reboot, protocol error) recovers the device and redoes the sample it
was on; a sample that fails MAX_SAMPLE_TRIES times is recorded as failed, never skipped. Every
finished sample is journaled before the next starts, so `--resume` continues where a run stopped.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tinyperf.datasets import Sample
from tinyperf.dut import Device
from tinyperf.errors import LinkError, ProtocolError
from tinyperf.models import ModelEntry
from tinyperf.modes import Journal, NoProgress, ProgressSink
from tinyperf.scoring import argmax, roc_auc, top1

INFER_ONE_TIMEOUT_S = 30.0  # until one inference has been timed on this device
MAX_SAMPLE_TRIES = 3
Recover = Callable[[Exception], Device]


@dataclass(frozen=True)
class Job:
    """One device command's worth of a sample: one inference, or a slide over windows."""

    sample: int
    data: bytes
    window: int | None = None
    stride: int | None = None

    @property
    def inferences(self) -> int:
        if self.window is None or self.stride is None:
            return 1
        return (len(self.data) - self.window) // self.stride + 1


FIRST_SEGMENT_WINDOWS = 8


def plan_jobs(index: int, sample: Sample, device: Device, first: bool = False) -> list[Job]:
    """Legacy: one job per window. Extension: the whole file slides on the device, in as few
    segments as its buffer allows. On a device that cannot slide while a buffer fills (no `stream`),
    the run's first file starts small and doubles (8, 16, 32... windows), so the device starts
    inferring while the rest is still on the wire."""
    data = sample.path.read_bytes()
    ext = device.extended
    if ext is None:
        return [Job(index, piece) for piece in sample.windows(data)]
    if sample.window_bytes is None or sample.stride_bytes is None:
        return [Job(index, data)]
    window, stride = sample.window_bytes, sample.stride_bytes
    per_segment = max(1, (ext.caps.buffer_bytes - window) // stride + 1)
    total = (len(data) - window) // stride + 1
    jobs = []
    done = 0
    size = min(FIRST_SEGMENT_WINDOWS, per_segment) if first and not device.streams else per_segment
    while done < total:
        count = min(size, total - done)
        start = done * stride
        jobs.append(Job(index, data[start : start + (count - 1) * stride + window], window, stride))
        done += count
        size = min(size * 2, per_segment)
    return jobs


class Timing:
    """How long one inference takes here (wall time), so a command's timeout fits the device. The
    fastest observation is the device's own time (slower ones include retries or downloads)."""

    def __init__(self) -> None:
        self.per_inference_s: float | None = None

    def timeout_s(self, inferences: int) -> float:
        if self.per_inference_s is None:
            return INFER_ONE_TIMEOUT_S * inferences
        return 4.0 * self.per_inference_s * inferences + 1.0

    def observe(self, seconds: float, inferences: int) -> None:
        value = seconds / inferences
        self.per_inference_s = value if self.per_inference_s is None else min(self.per_inference_s, value)


class JobRunner:
    """Runs jobs in order; `current` says which sample a fault belongs to."""

    def __init__(self, device: Device, timing: Timing) -> None:
        self.device = device
        self.timing = timing
        self.current: int | None = None

    def run(self, jobs: Iterator[Job]) -> Iterator[tuple[Job, list[tuple[float, ...]]]]:
        if self.device.extended is None:
            yield from self._one_at_a_time(jobs)
        else:
            yield from self._pipelined(jobs)

    def _one_at_a_time(self, jobs: Iterator[Job]) -> Iterator[tuple[Job, list[tuple[float, ...]]]]:
        for job in jobs:
            self.current = job.sample
            self.device.load(job.data)
            started = time.monotonic()
            values = self.device.infer(1, 0, self.timing.timeout_s(1)).values
            self.timing.observe(time.monotonic() - started, 1)
            yield job, [values]

    def _pipelined(self, jobs: Iterator[Job]) -> Iterator[tuple[Job, list[tuple[float, ...]]]]:
        """Job k runs on one buffer while job k+1 downloads into the other and is queued behind it,
        so the device goes from one to the next without waiting for the host."""
        job = next(jobs, None)
        if job is None:
            return
        self.current = job.sample
        buffer = 0
        ticket = self._send(job, buffer)
        last = time.monotonic()
        while job is not None:
            self.current = job.sample
            upcoming = next(jobs, None)
            next_ticket = None
            if upcoming is not None:
                buffer = 1 - buffer
                next_ticket = self._send(upcoming, buffer)
            outputs = self._finish(job, ticket)
            now = time.monotonic()
            self.timing.observe(now - last, job.inferences)
            last = now
            yield job, outputs
            job, ticket = upcoming, next_ticket  # type: ignore[assignment]

    def _send(self, job: Job, buffer: int) -> int:
        """Download the job's input into `buffer` and queue its command; returns the command's ticket."""
        # a queued command waits for the one before it: allow for both
        timeout = self.timing.timeout_s(2 * job.inferences)
        if job.window is None or job.stride is None:
            return self.device.start_results_only(self.device.stage(buffer, job.data), timeout)
        if self.device.streams:
            return self.device.stream_slide(buffer, job.data, job.window, job.stride, timeout)
        return self.device.start_slide(self.device.stage(buffer, job.data), job.window, job.stride, timeout)

    def _finish(self, job: Job, ticket: int) -> list[tuple[float, ...]]:
        if job.window is None:
            return [self.device.finish_results_only(ticket)]
        return self.device.finish_slide(ticket, job.inferences)


def _record(sample: Sample, outputs: list[tuple[float, ...]], entry: ModelEntry) -> dict:
    record: dict = {"name": sample.name, "label": sample.label, "windows": len(outputs)}
    if entry.scoring == "auc":
        record["score"] = statistics.fmean(values[0] for values in outputs)
    else:
        record["values"] = list(outputs[0])
        record["prediction"] = entry.official_class(argmax(outputs[0]))
    return record


def run_accuracy(
    device: Device,
    samples: list[Sample],
    entry: ModelEntry,
    journal: Journal = lambda record: None,
    progress: ProgressSink = NoProgress(),
    recover: Recover | None = None,
    done: dict[str, dict] | None = None,
) -> dict:
    """Score every sample; `done` holds records of a resumed run (by sample name) that are not redone."""
    records: dict[int, dict] = {}
    done = done or {}
    for index, sample in enumerate(samples):
        if sample.name in done:
            records[index] = done[sample.name]
    progress.start("accuracy samples", len(samples))
    progress.advance(len(records))
    tries: Counter[int] = Counter()
    timing = Timing()
    while len(records) < len(samples):
        todo = [i for i in range(len(samples)) if i not in records]
        runner = JobRunner(device, timing)
        try:
            _collect(runner, todo, samples, entry, records, journal, progress)
        except (LinkError, ProtocolError) as error:
            failing = runner.current if runner.current is not None else todo[0]
            tries[failing] += 1
            sample = samples[failing]
            journal({"event": "sample-error", "name": sample.name, "try": tries[failing], "error": str(error)})
            if tries[failing] >= MAX_SAMPLE_TRIES:
                records[failing] = {"name": sample.name, "label": sample.label, "failed": True, "error": str(error)}
                journal({"event": "sample", **records[failing]})
                progress.advance()
            if recover is None:
                raise
            device = recover(error)
    return score([records[i] for i in range(len(samples))], entry)


def _collect(runner: JobRunner, todo: list[int], samples: list[Sample], entry: ModelEntry,
             records: dict[int, dict], journal: Journal, progress: ProgressSink) -> None:
    """Run the samples in `todo`, journaling each as its last job finishes."""
    jobs_left: dict[int, int] = {}
    outputs: dict[int, list[tuple[float, ...]]] = {}

    def jobs() -> Iterator[Job]:
        for index in todo:
            planned = plan_jobs(index, samples[index], runner.device, first=index == todo[0])
            jobs_left[index] = len(planned)
            outputs[index] = []
            yield from planned

    for job, values in runner.run(jobs()):
        outputs[job.sample].extend(values)
        jobs_left[job.sample] -= 1
        if jobs_left[job.sample] == 0:
            record = _record(samples[job.sample], outputs.pop(job.sample), entry)
            journal({"event": "sample", **record})
            records[job.sample] = record
            progress.advance()


def score(records: list[dict], entry: ModelEntry) -> dict:
    scored = [r for r in records if not r.get("failed")]
    failed = [r["name"] for r in records if r.get("failed")]
    labels = [r["label"] for r in scored]
    problems = [f"{len(failed)} of {len(records)} samples failed 3 times: {', '.join(failed[:5])}"] if failed else []
    if entry.scoring == "auc":
        if failed and len(set(labels)) < 2:  # what is left has one class: no AUC, and the run says why
            problems.append("AUC undefined: the samples left after the failed ones are all of one class")
            figures = {"auc": None, "meets_target": False}
        else:
            auc = roc_auc([r["score"] for r in scored], labels)
            figures = {"auc": auc, "meets_target": bool(auc >= entry.accuracy_target)}
    else:
        figures = top1([r["prediction"] for r in scored], labels, len(entry.labels))
        figures["meets_target"] = bool(figures["top1_percent"] >= entry.accuracy_target)
    return {**figures, "target": entry.accuracy_target, "class_names": list(entry.labels),
            "valid": not problems, "problems": problems, "failed_samples": failed, "samples": records}
