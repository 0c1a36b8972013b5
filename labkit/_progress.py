"""Progress shown while labkit waits for something it can observe, with a deadline."""
from __future__ import annotations

import time


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a widget can show), False in a terminal or a test."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class Progress:
    """A progress bar: ipywidgets when available, else (if `text`) one line per change."""

    def __init__(self, label: str, total: int, unit: str = "available", text: bool = True) -> None:
        self.total, self.label, self.unit, self.text, self.widget = total, label, unit, text, None
        try:
            import ipywidgets
            from IPython.display import display
            self.widget = ipywidgets.IntProgress(value=0, min=0, max=max(total, 1), description=label)
            display(self.widget)
        except ImportError:
            pass
        self._last = -1

    def update(self, n: int) -> None:
        if self.widget is not None:
            self.widget.value = n
        elif n != self._last and self.text:
            print(f"{self.label}{n}/{self.total} {self.unit}", flush=True)
        self._last = n

    def fail(self) -> None:
        if self.widget is not None:
            self.widget.bar_style = "danger"

    def done(self) -> None:
        if self.widget is not None:
            self.widget.bar_style = "success"


class Deadline:
    """A wait of at most `timeout` seconds, shown as a bar of the time it may still take:
    an ipywidgets bar in a notebook, else a line of text every few seconds. Nothing shows
    for a wait that ends within `quiet` seconds, so a quick cluster prints the same as ever."""

    quiet = 1.0

    def __init__(self, label: str, timeout: float) -> None:
        self.label, self.timeout = label, timeout
        self.start = time.monotonic()
        self._bar = self._text = None
        self._shown = False
        self._printed = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def expired(self) -> bool:
        return self.elapsed > self.timeout

    def tick(self, status: str) -> None:
        """Another look that found the condition not yet met; `status` says what was seen."""
        elapsed = self.elapsed
        if elapsed < self.quiet:
            return
        if not self._shown:
            self._shown = True
            if in_notebook():
                import ipywidgets
                from IPython.display import display
                self._bar = ipywidgets.FloatProgress(value=0, min=0, max=self.timeout, description=self.label,
                                                     style={"description_width": "initial"})
                self._text = ipywidgets.Label()
                display(ipywidgets.HBox([self._bar, self._text]))
        if self._bar is not None:
            self._bar.value = min(elapsed, self.timeout)
            self._text.value = f"{status} ({elapsed:.0f} s)"
        elif elapsed - self._printed >= 5:
            print(f"{self.label}: {status} ({elapsed:.0f} s of at most {self.timeout:g} s)", flush=True)
            self._printed = elapsed

    def done(self) -> None:
        if self._bar is not None:
            self._bar.bar_style = "success"
            self._bar.value = self.timeout
            self._text.value = f"done after {self.elapsed:.0f} s"
