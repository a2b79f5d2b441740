"""Progress on long work: a live bar with rate and ETA on a terminal, plain lines in a log.

A CI log or a file gets one line per step of a short task (a performance window) or one every few
seconds of a long one (accuracy samples), so a log shows life; a terminal gets rich's live bars."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from tinyperf.cli.common import console

PLAIN_INTERVAL_S = 5.0  # a long task's plain lines: at most one per this many seconds
FEW_STEPS = 20  # a task of at most this many steps (windows) says each step that took a second or more
FEW_STEPS_INTERVAL_S = 1.0


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def rate_text(done: float, elapsed: float) -> str:
    """Steps per second, or seconds per step when a step is slower than a second."""
    if done <= 0 or elapsed <= 0:
        return "-/s"
    rate = done / elapsed
    return f"{rate:.1f}/s" if rate >= 1 else f"{elapsed / done:.1f} s each"


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(rate_text(task.completed, task.elapsed or 0.0), style="progress.data.speed")


class PlainProgress:
    """rich.Progress's add_task/advance for a stream that is not a terminal: complete lines, flushed."""

    def __init__(self) -> None:
        self._tasks: list[dict[str, Any]] = []

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self._tasks:
            if not task["said_last"] and task["done"]:
                self._say(task)

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        now = time.monotonic()
        self._tasks.append({"description": description, "total": total, "done": 0, "started": now,
                            "last": now, "said_last": False})
        self._write(f"{description}: started" + (f", {total:g} to do" if total else ""))
        return len(self._tasks) - 1

    def advance(self, task_id: int, advance: float = 1) -> None:
        task = self._tasks[task_id]
        task["done"] += advance
        now = time.monotonic()
        finished = task["total"] is not None and task["done"] >= task["total"]
        few = task["total"] is not None and task["total"] <= FEW_STEPS
        gap = now - task["last"]
        if finished or gap >= PLAIN_INTERVAL_S or (few and gap >= FEW_STEPS_INTERVAL_S):
            self._say(task, now)

    def _say(self, task: dict[str, Any], now: float | None = None) -> None:
        now = now or time.monotonic()
        task["last"] = now
        elapsed = now - task["started"]
        done, total = task["done"], task["total"]
        if total:
            eta = (total - done) * elapsed / done if done else None
            line = (f"{task['description']}: {done:g}/{total:g} ({100 * done / total:.0f} %), "
                    f"{rate_text(done, elapsed)}, elapsed {clock(elapsed)}, ETA {clock(eta)}")
        else:
            line = f"{task['description']}: {done:g} done, {rate_text(done, elapsed)}, elapsed {clock(elapsed)}"
        task["said_last"] = total is not None and done >= total
        self._write(line)

    def _write(self, line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True, markup=False)
        console.file.flush()


def progress_display() -> Progress | PlainProgress:
    """A context manager with add_task(description, total) and advance(task, steps)."""
    if not console.is_terminal:
        return PlainProgress()
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                    transient=False)


class TaskSink:
    """A mode's ProgressSink (start/advance) on a progress display; each start() is a new task."""

    def __init__(self, progress: Progress | PlainProgress, prefix: str) -> None:
        self._progress = progress
        self._prefix = prefix
        self._task: Any = None

    def start(self, description: str, total: int) -> None:
        self._task = self._progress.add_task(f"{self._prefix} {description}", total=total)

    def advance(self, steps: int = 1) -> None:
        self._progress.advance(self._task, steps)


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner on a terminal; in a log one line before the wait and one after, with its duration."""
    if console.is_terminal:
        with console.status(message):
            yield
        return
    started = time.monotonic()
    console.print(f"{message} ...", highlight=False, soft_wrap=True, markup=False)
    yield
    console.print(f"{message}: done in {clock(time.monotonic() - started)}", highlight=False, soft_wrap=True,
                  markup=False)
