"""How the commands report a mistake the user can fix, and an interruption.

Every command runs its work through :func:`run_command`: a
:class:`ProjectError` becomes one line on stderr and exit code 1, never a
traceback; Ctrl-C or SIGTERM becomes a short note and the usual 128 + signal
exit code.  Files are written atomically (see ``artifacts``), so an
interruption never leaves a partial file behind.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence


class ProjectError(Exception):
    """A problem the user can fix.  The message says what is wrong and how to fix it."""


class Interrupted(BaseException):
    """Raised in the main thread on Ctrl-C or SIGTERM, so every cleanup runs.

    It is not a KeyboardInterrupt on purpose: some training loops catch that
    one and carry on.  If one swallows this too, :func:`check_interrupted`
    (called between epochs) raises it again.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []


def _raise_interrupted(signum: int, _frame: object) -> None:
    _received.append(signum)
    raise Interrupted(signum)


def check_interrupted() -> None:
    """Raise Interrupted if a signal arrived, even if library code swallowed it."""
    if _received:
        raise Interrupted(_received[0])


def reader_gone() -> int:
    """What stdout was piped into stopped reading (``| head``): end quietly, as other
    command-line tools do, instead of a traceback as Python flushes at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


def run_command(name: str, body: Callable[[Sequence[str]], int], argv: Sequence[str]) -> int:
    """Run one command's body and turn user errors and interruptions into exit codes."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _raise_interrupted)
    try:
        code = body(argv)
        sys.stdout.flush()  # here, where a reader that went away can be told apart
        return code
    except BrokenPipeError:
        return reader_gone()
    except ProjectError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 1
    except (Interrupted, KeyboardInterrupt) as interruption:
        signum = getattr(interruption, "signum", signal.SIGINT)
        print(
            f"{name}: interrupted by {signal.Signals(signum).name}; no partial file was left",
            file=sys.stderr,
        )
        return 128 + signum
