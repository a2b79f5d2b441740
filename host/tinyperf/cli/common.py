"""What every command shares: the consoles, exit codes, one-line errors, signals that end children.

Imported by every CLI module at start-up, so it imports nothing heavy (no numpy, no pydantic)."""

from __future__ import annotations

import errno
import functools
import signal
import sqlite3
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from tinyperf.errors import RunInterrupted, TinyperfError

console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}

# The contract every command keeps (README "Exit codes" and `tinyperf --help` say the same).
EXIT_OK = 0
EXIT_INVALID = 1  # measured, but INVALID under the rules, or a regression (gate), or a bad file found (verify)
EXIT_USER_ERROR = 2  # an option, a file, a device or an instrument was wrong: one line says which and what to do
EXIT_INCONCLUSIVE = 3  # gate: the confidence interval straddles the allowance
EXIT_INTERNAL = 4  # a bug in tinyperf: rerun with --debug for the traceback and report it
EXIT_INTERRUPTED = 130  # Ctrl-C, SIGTERM or SIGHUP
EXIT_CODES_HELP = ("Exit codes: 0 ok; 1 measured but INVALID, or a regression (gate); 2 user or input error "
                   "(one line says what to do); 3 inconclusive (gate); 4 internal error; 130 interrupted "
                   "(Ctrl-C, SIGTERM, SIGHUP).")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so every `with` block below it stops its children
    and closes its session as Ctrl-C does (Python's default for these signals kills without cleanup)."""


def _raise_terminated(signum: int, frame: object) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second signal must not interrupt the clean-up itself
    raise Terminated(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP end a command as Ctrl-C does; Ctrl-C itself works even when tinyperf was started
    with SIGINT ignored (a shell's background job, some CI runners), since every command says it stops it."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)


def set_debug(debug: bool) -> None:
    _state["debug"] = debug


def os_error_line(e: OSError) -> str:
    """`path: what went wrong; what to do`, for a file or folder the OS refused."""
    where = " -> ".join(str(p) for p in (e.filename, e.filename2) if p is not None) or "a file"
    advice = {
        errno.EACCES: "check its permissions or choose another folder (e.g. --sessions-dir, --out)",
        errno.EPERM: "check its permissions or choose another folder (e.g. --sessions-dir, --out)",
        errno.EROFS: "it is on a read-only file system: choose a writable folder (e.g. --sessions-dir, --out)",
        errno.ENOSPC: "the disk is full: free some space or choose another folder",
        errno.ENOENT: "check the path (its folder must exist)",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EEXIST: "a file is in the way of a folder: remove it or choose another path",
        errno.EISDIR: "it is a folder: give a file name",
    }.get(e.errno or 0, "check the path")
    return f"{where}: {e.strerror or e}; {advice}"


def _fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Every way a command can end, mapped to one line and the documented exit code; tracebacks only
    with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # click's own exits and usage errors (exit 2, with the option named)
        except RunInterrupted as e:  # inside a run: the runner says what is kept and whether it can resume
            err_console.print(f"[yellow]{escape(str(e))}[/]", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except KeyboardInterrupt as e:
            why = f" by {e}" if isinstance(e, Terminated) else ""
            err_console.print(f"[yellow]interrupted{why}[/]: stopped before finishing; nothing was kept",
                              highlight=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except TinyperfError as e:
            if _state["debug"]:
                raise
            # device lines are bracketed (`e-[...]`): printed as text, never read as rich markup
            exit_ = _fail(str(e), EXIT_USER_ERROR)
            for note in getattr(e, "__notes__", []):
                err_console.print(escape(note), highlight=False, soft_wrap=True)
            raise exit_ from None
        except OSError as e:
            if _state["debug"]:
                raise
            raise _fail(os_error_line(e), EXIT_USER_ERROR) from None
        except sqlite3.Error as e:
            if _state["debug"]:
                raise
            raise _fail(f"results store: {e}; check TINYPERF_STORE / --store points at a writable file",
                        EXIT_USER_ERROR) from None
        except Exception as e:
            if _state["debug"]:
                raise
            raise _fail(f"internal error ({type(e).__name__}: {e}); rerun with --debug for the traceback and "
                        "report it", EXIT_INTERNAL) from None

    return wrapper
