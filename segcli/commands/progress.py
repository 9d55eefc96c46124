"""A progress indicator for long runs: a transient spinner on a terminal's stderr, else nothing."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.status import Status

SHOW_AFTER_SECONDS = 1.0


class Progress:
    """Context manager: shows `message` with a spinner once the work has taken `delay` seconds.

    Only when the stream (stderr by default) is a terminal, so pipes, files and cron mail
    stay clean; the spinner is erased when the work ends.
    """

    def __init__(self, message: str, delay: float = SHOW_AFTER_SECONDS, stream: TextIO | None = None) -> None:
        self.message = message
        self.delay = delay
        self.stream = sys.stderr if stream is None else stream
        self.shown = threading.Event()
        self._lock = threading.Lock()
        self._done = False
        self._status: Status | None = None
        self._timer: threading.Timer | None = None

    def _show(self) -> None:
        from rich.console import Console

        with self._lock:
            if self._done:
                return
            console = Console(file=self.stream, force_terminal=True, highlight=False)
            status = console.status(self.message)
            status.start()
            self._status = status
            self.shown.set()

    def update(self, message: str) -> None:
        """Show `message` from now on (the step a long run has reached)."""
        with self._lock:
            self.message = message
            if self._status is not None:
                self._status.update(message)

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            self._timer = threading.Timer(self.delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._done = True
            if self._status is not None:
                self._status.stop()
