"""Training progress that suits where it is shown.

On a terminal: one line redrawn in place, with a bar and the time left.
Anywhere else (a pipe, a log file, CI): a plain line per epoch, with no
control characters, so logs read and diff as text.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Mapping
from typing import TextIO

BAR_WIDTH = 20


def live(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether to redraw a bar: a terminal that is not CI's and understands it."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return terminal and not environ.get("CI") and environ.get("TERM", "") != "dumb"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class EpochProgress:
    """Shows each epoch's training and held-out loss, and on a terminal the time left."""

    def __init__(self, epochs: int, stream: TextIO | None = None) -> None:
        self.epochs = epochs
        self.stream = stream if stream is not None else sys.stdout
        self.live = live(self.stream)
        self.started = time.monotonic()
        self.drawn = False

    def update(self, epoch: int, loss: float, held_out: float) -> None:
        numbers = f"loss {loss:.4f}  held-out {held_out:.4f}"
        if not self.live:
            print(f"epoch {epoch:>4}/{self.epochs}  {numbers}", file=self.stream, flush=True)
            return
        elapsed = time.monotonic() - self.started
        left = elapsed / epoch * (self.epochs - epoch)
        filled = BAR_WIDTH * epoch // self.epochs
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        tail = f"{duration(elapsed)} in all" if epoch == self.epochs else f"{duration(left)} left"
        line = f"epoch {epoch:>4}/{self.epochs} [{bar}] {numbers}  {tail}"
        width = shutil.get_terminal_size((80, 24)).columns
        # Back to the line's start, the line cut to the terminal, the rest of it cleared.
        self.stream.write("\r" + line[: max(width - 1, 1)] + "\x1b[K")
        self.drawn = True
        if epoch == self.epochs:
            self.finish()
        self.stream.flush()

    def finish(self) -> None:
        """End the redrawn line, so that what follows starts on a line of its own."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
