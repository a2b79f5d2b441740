"""Accuracy mode: every dataset row, `infer 1 0` per device-sized input, scored as MLPerf Tiny does.

Over the tinyperf extension the next input downloads into the second buffer while the device infers
on the first, and an ad01 file goes to the device once (it slides the window itself). A fault (lost
frame past its retries, hang, reboot, protocol error) recovers the device and redoes the sample it
was on; a sample that fails MAX_SAMPLE_TRIES times is recorded as failed, never skipped. Every
finished sample is journaled before the next starts, so `--resume` continues where a run stopped.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tinyperf.device.dut import Device
from tinyperf.errors import LinkError, ProtocolError
from tinyperf.run.modes import Journal, NoProgress, ProgressSink
from tinyperf.suite.datasets import Sample
from tinyperf.suite.models import ModelEntry
from tinyperf.suite.scoring import argmax, roc_auc, top1

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


def record_fits(record: dict, entry: ModelEntry) -> bool:
    """Whether a journaled sample record can be scored for this model (finite numbers of the right count)."""
    def number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

    if not isinstance(record.get("label"), int):
        return False
    if entry.scoring == "auc":
        return number(record.get("score"))
    values = record.get("values")
    return (isinstance(values, list) and len(values) == entry.result_count and all(map(number, values))
            and isinstance(record.get("prediction"), int) and 0 <= record["prediction"] < len(entry.labels))


@dataclass
class Shard:
    """One board of a run: its device, how to get it back after a fault, and its name in the journal."""

    device: Device
    recover: Recover | None = None
    name: str = ""  # set on a run with several boards: records and journal lines say which did what


class SampleQueue:
    """The samples still to do, shared by the shards: each takes the next one when it has room, so a
    fast board does more, and a board taken out gives its unfinished samples back to the others."""

    def __init__(self, todo: list[int]) -> None:
        self._todo = list(todo)
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            return self._todo.pop(0) if self._todo else None

    def give_back(self, indices: list[int]) -> None:
        with self._lock:
            self._todo[:0] = sorted(indices)


class _Results:
    """Records and tries shared by the shards; journaled before anything else sees them."""

    def __init__(self, samples: list[Sample], entry: ModelEntry, journal: Journal, progress: ProgressSink,
                 done: dict[int, dict]) -> None:
        self.samples, self.entry, self.journal, self.progress = samples, entry, journal, progress
        self.records = dict(done)
        self.tries: Counter[int] = Counter()
        self.lock = threading.Lock()

    def finish(self, index: int, record: dict) -> None:
        with self.lock:
            self.journal({"event": "sample", **record})
            self.records[index] = record
            self.progress.advance()

    def failed_try(self, index: int, error: Exception, shard: str) -> bool:
        """Counts a try; True (and the sample is recorded as failed) once it has had MAX_SAMPLE_TRIES."""
        sample = self.samples[index]
        with self.lock:
            self.tries[index] += 1
            tries = self.tries[index]
            self.journal({"event": "sample-error", "name": sample.name, "try": tries, "error": str(error),
                          **_shard_field(shard)})
        if tries < MAX_SAMPLE_TRIES:
            return False
        record = {"name": sample.name, "label": sample.label, "failed": True, "error": str(error)}
        self.finish(index, record | _shard_field(shard))
        return True


def _shard_field(shard: str) -> dict:
    """Which board did a sample, in its record (left out on a one-board run)."""
    return {"shard": shard} if shard else {}


def run_accuracy(
    device: Device,
    samples: list[Sample],
    entry: ModelEntry,
    journal: Journal = lambda record: None,
    progress: ProgressSink = NoProgress(),
    recover: Recover | None = None,
    done: dict[str, dict] | None = None,
) -> dict:
    """Score every sample on one board; `done` holds records of a resumed run (by name), not redone."""
    return run_accuracy_sharded([Shard(device, recover)], samples, entry, journal, progress, done)


def run_accuracy_sharded(
    shards: list[Shard],
    samples: list[Sample],
    entry: ModelEntry,
    journal: Journal = lambda record: None,
    progress: ProgressSink = NoProgress(),
    done: dict[str, dict] | None = None,
) -> dict:
    """Score every sample on one or more identical boards, each in its own thread, from one queue.

    A fault recovers that board and redoes the sample; a board that cannot be recovered is taken out
    and its unfinished samples go to the others. The run fails only when every board is out."""
    by_name = done or {}
    finished = {i: by_name[s.name] for i, s in enumerate(samples) if s.name in by_name}
    results = _Results(samples, entry, journal, progress, finished)
    progress.start("accuracy samples", len(samples))
    progress.advance(len(finished))
    queue = SampleQueue([i for i in range(len(samples)) if i not in finished])
    errors: list[BaseException] = []
    if len(shards) == 1:
        _serve(shards[0], queue, results, errors)
    else:
        threads = [threading.Thread(target=_serve, args=(shard, queue, results, errors), daemon=True)
                   for shard in shards]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if len(results.records) < len(samples):
        raise errors[-1] if errors else RuntimeError("accuracy run ended with samples left and no error")
    figures = score([results.records[i] for i in range(len(samples))], entry)
    if len(shards) > 1:
        done_by = Counter(r.get("shard") for r in results.records.values())
        figures["shards"] = [{"name": s.name, "samples": done_by[s.name]} for s in shards]
    return figures


def _serve(shard: Shard, queue: SampleQueue, results: _Results, errors: list[BaseException]) -> None:
    """One board's loop: take samples until the queue is empty; recover after faults; give back and
    stop when the board cannot be recovered."""
    timing = Timing()
    device = shard.device
    while True:
        taken: list[int] = []
        runner = JobRunner(device, timing)
        try:
            _collect(runner, queue, taken, results, shard.name)
            return
        except (LinkError, ProtocolError) as error:
            failing = runner.current if runner.current is not None else (taken[0] if taken else None)
            unfinished = [i for i in taken if i not in results.records]
            if failing is not None and failing in unfinished and results.failed_try(failing, error, shard.name):
                unfinished.remove(failing)
            queue.give_back(unfinished)
            if shard.recover is None:
                errors.append(error)
                return
            try:
                device = shard.recover(error)
            except (LinkError, ProtocolError) as gone:
                results.journal({"event": "board-out", "shard": shard.name, "error": str(gone)})
                errors.append(gone)
                return


def _collect(runner: JobRunner, queue: SampleQueue, taken: list[int], results: _Results, shard: str) -> None:
    """Run samples from the queue, journaling each as its last job finishes; `taken` lists what this
    board took (so a fault can give the unfinished ones back)."""
    jobs_left: dict[int, int] = {}
    outputs: dict[int, list[tuple[float, ...]]] = {}

    def jobs() -> Iterator[Job]:
        first = True
        while (index := queue.take()) is not None:
            taken.append(index)
            planned = plan_jobs(index, results.samples[index], runner.device, first=first)
            first = False
            jobs_left[index] = len(planned)
            outputs[index] = []
            yield from planned

    for job, values in runner.run(jobs()):
        outputs[job.sample].extend(values)
        jobs_left[job.sample] -= 1
        if jobs_left[job.sample] == 0:
            record = _record(results.samples[job.sample], outputs.pop(job.sample), results.entry)
            results.finish(job.sample, record | _shard_field(shard))


def score(records: list[dict], entry: ModelEntry) -> dict:
    scored = [r for r in records if not r.get("failed")]
    failed = [r["name"] for r in records if r.get("failed")]
    labels = [r["label"] for r in scored]
    first_error = next((r.get("error") for r in records if r.get("failed")), None)
    problems = [f"{len(failed)} of {len(records)} samples failed 3 times: {', '.join(failed[:5])} (first: "
                f"{first_error})"] if failed else []
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
