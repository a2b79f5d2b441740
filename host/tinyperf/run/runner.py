"""One benchmark run, as four stages that hand a value on: plan (everything checked before a device is
touched) -> connected bench -> measured figures -> outcome written to the session folder.

`execute` only orders the stages and keeps the session whole however the run ends (Ctrl-C, SIGTERM, an
error): the journal says what happened, and an accuracy run with finished samples can be resumed.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import Path

from tinyperf.errors import ConfigError, RunInterrupted
from tinyperf.run.bench import connect_bench
from tinyperf.run.measure import measure
from tinyperf.run.modes import NoProgress, ProgressSink
from tinyperf.run.modes.accuracy import record_fits
from tinyperf.run.outcome import RunOutcome, finish, has_finished_samples, record_error
from tinyperf.run.plan import RunPlan, model_plan, plan_run
from tinyperf.run.request import RunRequest, jsonable, resumed_request, sim_options
from tinyperf.run.session import Session, finished_samples

__all__ = ["RunOutcome", "RunRequest", "execute", "resumed_request", "sim_options"]


def execute(request: RunRequest, progress: ProgressSink | None = None, resume: Path | None = None) -> RunOutcome:
    """Validate everything that can be validated before touching the device, then run.

    With `resume`, `request` is the one journaled in that session folder; its finished samples are kept."""
    progress = progress or NoProgress()
    board, entry, model = model_plan(request)
    if entry.streaming:
        if resume is not None:
            raise ConfigError("a sww01 stream is one measurement: run it again instead of --resume")
        from tinyperf.suite.sww.session_run import execute_streaming

        return execute_streaming(request, board, entry, model, progress)
    plan = plan_run(request, board, entry, model)
    session, done = _open_session(plan, resume)
    try:
        with contextlib.ExitStack() as stack:
            bench = connect_bench(plan, session, stack)
            figures, dataset_note = measure(plan, bench, session, progress, done)
    except KeyboardInterrupt as e:
        session.journal({"event": "interrupted", "by": str(e) or "SIGINT"})
        if request.mode == "accuracy" and has_finished_samples(session):
            raise RunInterrupted(f"interrupted; finished samples are journaled in {session.root}: continue with "
                                 f"`tinyperf run --resume {session.root}`") from None
        raise RunInterrupted(f"interrupted; what was measured is journaled in {session.root}/journal.jsonl "
                             f"(this {request.mode} run cannot be continued: run it again)") from None
    except Exception as e:
        record_error(session, e)
        if request.mode == "accuracy" and has_finished_samples(session):
            e.add_note(f"finished samples are journaled: continue with `tinyperf run --resume {session.root}`")
        raise
    return finish(plan, bench.request, session, bench.identity, figures, dataset_note)


def _open_session(plan: RunPlan, resume: Path | None) -> tuple[Session, dict[str, dict]]:
    """A new session folder, or the resumed one with the samples it has finished."""
    request = plan.request
    if resume is None:
        session = Session.create(request.sessions_dir, plan.board.id, request.benchmark, request.mode)
        session.lock()
        session.journal({"event": "start", "request": jsonable(asdict(request))})
        return session, {}
    session = Session(resume)
    session.lock()
    torn = session.mend_torn_journal()
    done = finished_samples(session, lambda record: record_fits(record, plan.entry))
    session.journal({"event": "resume", "finished_samples": len(done), **({"torn_line": torn} if torn else {})})
    return session, done
