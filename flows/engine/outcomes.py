"""What a step produces: the outcomes the interpreter acts on, and the step error.

A node type's ``execute``/``resume`` returns :class:`Next`, :class:`Wait` or :class:`End`, or raises
:class:`StepError`. They belong to the engine; node modules reach them through ``flows.nodes.base``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Next:
    """Follow the edge from ``port``. A port with no edge ends the run (completed)."""

    port: str = "next"
    output: dict[str, Any] = field(default_factory=dict)


@dataclass
class Wait:
    """Pause the run on this node until an event answers it or ``wake_at`` passes.

    ``kind`` is ``delay`` (only the timer resumes it), ``reply`` (the contact's next message
    resumes it; the timer, if any, is the timeout) or ``call``: ``call`` names a runtime service
    and its arguments, which run outside any transaction once the run is stored
    (``flows.calls``); their result comes back as a ``call_result`` event, and ``wake_at`` is the
    deadline. The node's ``resume()`` decides the port.
    """

    kind: str
    wake_at: datetime | None = None
    output: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] | None = None  # {"service": name, "kwargs": {...}} for kind "call"


@dataclass
class End:
    status: str = "completed"
    reason: str = ""
    output: dict[str, Any] = field(default_factory=dict)


Outcome = Next | Wait | End


class StepError(Exception):
    """A node could not do its work. Has a clear, human reason (say how to fix it when possible).

    If the node declares a ``failure`` port the run takes it (the error is put in
    ``{{vars.last_error}}``); otherwise the run fails with this reason.
    """

    def __init__(self, message: str, *, code: str = "step_error", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}
