"""An execution's phase shown live: a display updated in place in a notebook, lines of text elsewhere."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any, TextIO

from .models import TERMINAL_PHASES, Execution

if TYPE_CHECKING:
    from .models import OfferSet

_COLOURS = {"COMPLETED": "#2e7d32", "FAILED": "#c62828", "CANCELLED": "#6d4c41", "REJECTED": "#6d4c41",
            "EXPIRED": "#6d4c41", "AVAILABLE": "#1565c0", "RUNNING": "#1565c0"}


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


def render_text(execution: Execution, since: datetime | None = None) -> list[str]:
    """One line per phase change (``[mm:ss.s] PHASE (note)``), timed from ``since`` or the first change."""
    changes = execution.history()
    if not changes:
        return [f"[{_clock(0)}] {execution.phase}"]
    origin = since or changes[0].time
    lines = []
    for c in changes:
        elapsed = (c.time - origin).total_seconds() if c.time and origin else 0.0
        lines.append(f"[{_clock(elapsed)}] {c.phase}" + (f" ({c.note})" if c.note else ""))
    return lines


def _badge(phase: str | None) -> str:
    colour = _COLOURS.get(phase or "", "#ef6c00")
    return (f'<span style="background:{colour};color:white;padding:1px 6px;border-radius:3px;'
            f'font-family:monospace">{escape(phase or "?")}</span>')


def render_html(execution: Execution) -> str:
    """The execution as HTML for a notebook: phase, history, where to reach it, and what went wrong."""
    meta = execution.meta
    name = escape((meta.name if meta and meta.name else None) or "execution")
    uuid = escape(meta.uuid if meta and meta.uuid else "?")
    rows = "".join(
        f"<tr><td>{escape(c.time.isoformat() if c.time else '')}</td><td>{escape(c.phase)}</td>"
        f"<td>{escape(c.note or '')}</td></tr>"
        for c in execution.history()
    )
    links = "".join(
        f'<li><a href="{escape(c.location)}" target="_blank">{escape(c.location)}</a> '
        f"({escape(c.kind or '')}, {escape(c.status or '')})</li>"
        for c in execution.connectors or [] if c.location and c.location.startswith(("http://", "https://"))
    )
    notes = "".join(
        f"<li>{escape(m.level or '')} {escape(m.message or m.template or '')}</li>"
        for m in execution.component_messages() if m.level in ("WARN", "ERROR")
    )
    return (
        f'<div class="eb-execution"><b>{name}</b> <code>{uuid}</code> {_badge(execution.phase)}'
        + (f"<table><tr><th>time</th><th>phase</th><th>note</th></tr>{rows}</table>" if rows else "")
        + (f"<ul>{links}</ul>" if links else "")
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</div>"
    )


def render_offer_set_html(offer_set: "OfferSet") -> str:
    """An offer set as HTML: each offer's cores, memory, start and expiry, or the messages of a NO."""
    head = f"<b>offer set</b> <code>{escape(offer_set.uuid or '?')}</code> {escape(offer_set.result or '?')}"
    if offer_set.result != "YES":
        items = "".join(f"<li>{escape(str(m))}</li>" for m in offer_set.messages)
        return f'<div class="eb-offerset">{head}<ul>{items}</ul></div>'
    rows = []
    for o in offer_set.offers or []:
        compute = o.compute
        cores = getattr(getattr(compute, "cores", None), "min", None)
        memory = getattr(getattr(compute, "memory", None), "min", None)
        start = o.schedule.preparing.start if o.schedule and o.schedule.preparing else None
        rows.append(f"<tr><td><code>{escape(o.meta.uuid if o.meta and o.meta.uuid else '?')}</code></td>"
                    f"<td>{escape(str(cores))}</td><td>{escape(str(memory))}</td><td>{escape(start or '')}</td>"
                    f"<td>{escape(o.expires.isoformat() if o.expires else '')}</td></tr>")
    table = ("<table><tr><th>offer</th><th>cores</th><th>memory GiB</th><th>prepares at</th><th>expires</th></tr>"
             + "".join(rows) + "</table>")
    return f'<div class="eb-offerset">{head}{table}</div>'


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython's ZMQ shell), where a display can update in place."""
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class PhaseDisplay:
    """Shows an execution's progress: pass it as ``progress=`` to a wait, or call it with each execution.

    In a notebook it keeps one HTML display and updates it; elsewhere it writes each new phase change
    as a line to ``stream`` (also the phases passed between two answers, read from the history).
    """

    def __init__(self, stream: TextIO | None = None, notebook: bool | None = None) -> None:
        self.stream = stream
        self.notebook = in_notebook() if notebook is None else notebook
        self.started = datetime.now(timezone.utc)
        self._printed = 0
        self._handle: Any = None
        self.last: Execution | None = None

    def __call__(self, execution: Execution) -> None:
        self.last = execution
        if self.notebook:
            self._show_html(execution)
        else:
            self._show_text(execution)

    def _show_text(self, execution: Execution) -> None:
        lines = render_text(execution, self.started)
        stream = self.stream or sys.stderr
        if self._printed == 0 and execution.meta and execution.meta.uuid:
            stream.write(f"execution {execution.meta.uuid}\n")
        for line in lines[self._printed:]:
            stream.write(line + "\n")
        self._printed = max(self._printed, len(lines))
        if execution.phase in TERMINAL_PHASES:
            stream.flush()

    def _show_html(self, execution: Execution) -> None:
        from IPython.display import HTML, display  # type: ignore[import-not-found]

        html = HTML(render_html(execution))
        if self._handle is None:
            self._handle = display(html, display_id=True)
        else:
            self._handle.update(html)
