"""A live search: one at a time, in a background thread or blocking, stoppable, drawn at most a few times a second.

Every dashboard is a `LiveSearch`. Its `_search(**options)` runs the search in whichever thread called it; it
calls `self.pause(seconds)` between evaluations (Stop raises `StopSearch` there) and `self.redraw(...)` after them.
"""

import html
import threading
import time
import traceback

import ipywidgets as W
import plotly.graph_objects as go

from ..palette import STATE_COLORS


class StopSearch(KeyboardInterrupt):
    """Raised inside a search, between two evaluations (or epochs), when someone pressed Stop.

    It is a KeyboardInterrupt: a search stops on it the way it stops on Ctrl-C, keeping what it found.
    """


def arrow(ops) -> str:
    """An architecture in op names, as the course writes it: conv3x3 → conv5x5 → skip → maxpool."""
    return " → ".join(ops)


def keep_drawn(owner, name: str, tries: int = 3) -> W.Box:
    """The FigureWidget `owner.<name>` in a frame of its own, put there afresh if a browser draws it without its
    traces. Place the frame, not the figure, in the layout.

    Why: anywidget gives the browser 2 s to load a widget's code (plotly's is 5 MB) after the widget appears; a
    model that misses it drops every message from the kernel for good, and plotly sends a figure's data and layout
    as messages just after the widget opens: that view draws plotly's empty default figure and never updates.
    A drawn view tells Python what it drew (plotly's `_js2py_traceDeltas`, one entry per trace it holds): fewer
    entries than traces is such a lost figure, and a fresh widget gets a fresh model (at most `tries` times). The
    frame holds nothing else, so the swap redraws no other figure (a removed plotly view keeps listening to its
    model and stops the next view's updates).
    """
    frame = W.Box([getattr(owner, name)])

    def watch(figure, tries):
        def lost(change):
            drawn = (change["new"] or {}).get("trace_deltas")
            if drawn is None or len(drawn) >= len(figure.data) or tries < 1 or frame.children != (figure,):
                return
            fresh = go.FigureWidget(figure)
            frame.children = (fresh,)
            setattr(owner, name, fresh)
            figure.close()
            watch(fresh, tries - 1)

        figure.observe(lost, names="_js2py_traceDeltas")

    watch(frame.children[0], tries)
    return frame


class LiveSearch:
    """A search that runs once at a time: `start()` in a background thread (the Start button), `run()` blocking."""

    interval = 0.25  # seconds between two redraws: the browser keeps up, the search barely notices

    def __init__(self, bench=None):
        self._bench = bench  # a NanoBench, loaded when first needed
        self._lock, self._busy, self._stop = threading.Lock(), False, threading.Event()
        self._thread, self._last_draw, self.started = None, 0.0, None
        self.error, self.result = None, None  # the last search's exception (None if it worked) and its result
        self.start_button = W.Button(description="Start", icon="play", button_style="success")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.reset_button = W.Button(description="Reset", icon="undo")
        for button, name in [(self.start_button, "start"), (self.stop_button, "stop"), (self.reset_button, "reset")]:
            button.add_class(f"nanonas-{name}")  # stable hooks for the browser test
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.status = W.HTML("ready: press Start").add_class("nanonas-status")
        self.error_box = W.HTML("").add_class("nanonas-error")
        self.controls = {}  # {option name: widget}: read by Start, set by run(**options), locked while a search runs

    @property
    def bench(self):
        """The NanoBench that scores the picks: the one given, else the default table, loaded on first use."""
        if self._bench is None:
            from ..bench import NanoBench

            self._bench = NanoBench.load()
        return self._bench

    # -- what a dashboard fills in
    def _search(self, **options):
        raise NotImplementedError

    def _clear(self):
        """Empty the figures."""

    # -- options
    def options(self) -> dict:
        """The search's options, as the controls show them."""
        return {name: control.value for name, control in self.controls.items()}

    def _show(self, options: dict):
        """Set the controls to these options, so the dashboard shows what runs (a value it cannot show is left to
        the search to reject with a clear message)."""
        for name, value in options.items():
            if name in self.controls:
                try:
                    self.controls[name].value = value
                except Exception:
                    pass

    # -- running
    @property
    def running(self) -> bool:
        return self._busy

    def _claim(self) -> bool:
        with self._lock:
            if self._busy:
                return False
            self._busy = True
            self._stop.clear()
            return True

    def start(self, **options) -> bool:
        """Start a search in a background thread; False (and a word in the status) if one is already running."""
        if not self._claim():
            self.status.value = "a search is already running: press <b>Stop</b> first"
            return False
        self._show(options)
        options = {**self.options(), **options}
        self._thread = threading.Thread(target=self._guarded, args=(options, False), daemon=True)
        self._thread.start()
        return True

    def run(self, **options):
        """Run a search here and now, drawing as it goes, and return its result (no clicks: for nbval and scripts)."""
        if not self._claim():
            raise RuntimeError("a search is already running in this dashboard; stop it or wait for it first")
        self._show(options)
        merged = {**self.options(), **options}
        if "pace" in merged and "pace" not in options:
            merged["pace"] = 0.0  # headless: no need to slow an instant search down for watching eyes
        return self._guarded(merged, True)

    def stop(self):
        """Ask the running search to stop at its next evaluation (or DARTS step)."""
        self._stop.set()

    def wait(self, timeout=None) -> bool:
        """Wait for a background search to end; True if none is running any more."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def reset(self):
        """Clear the figures and the status (not while a search runs)."""
        if self.running:
            self.status.value = "a search is running: press <b>Stop</b> before Reset"
            return
        self.error, self.result = None, None
        self.error_box.value = ""
        self._clear()
        self.status.value = "ready: press Start"

    def _guarded(self, options, reraise):
        self.error, self.result = None, None
        self.error_box.value = ""
        self._lock_controls(True)
        self.started, self._last_draw = time.perf_counter(), 0.0
        try:
            self._clear()
            self.result = self._search(**options)
            return self.result
        except Exception as e:  # shown in the widget, kept in .error, and raised again by the blocking run()
            self.error = e
            self.status.value = (
                f'<b style="color:{STATE_COLORS["error"]}">error</b>: {html.escape(f"{type(e).__name__}: {e}")}'
            )
            trace = html.escape("".join(traceback.format_exception(type(e), e, e.__traceback__)))
            details = f'<summary>details</summary><pre style="color:{STATE_COLORS["error"]}">{trace}</pre>'
            self.error_box.value = f"<details>{details}</details>"
            if reraise:
                raise
        finally:
            self._lock_controls(False)
            with self._lock:
                self._busy = False

    def _lock_controls(self, running: bool):
        self.start_button.disabled = self.reset_button.disabled = running
        self.stop_button.disabled = not running
        for control in self.controls.values():
            control.disabled = running

    # -- what a search calls
    def pause(self, seconds: float = 0.0):
        """Wait `seconds` (so an instant search can be watched), or raise StopSearch if Stop was pressed."""
        if self._stop.wait(seconds) if seconds > 0 else self._stop.is_set():
            raise StopSearch

    def due(self, force: bool = False) -> bool:
        """True when it is time to redraw: at most once every `interval` seconds, or when forced."""
        now = time.perf_counter()
        if force or now - self._last_draw >= self.interval:
            self._last_draw = now
            return True
        return False

    def elapsed(self) -> float:
        return time.perf_counter() - self.started if self.started else 0.0

    # -- showing
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
