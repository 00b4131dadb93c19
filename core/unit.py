"""A unit of work: the rows one event (or one batch of timers) writes, flushed with bulk statements.

The interpreter steps a run through several nodes, each of which used to write its own row at
once (a step, the run, an outbound message, the event). Inside a unit of work they are
collected instead and written at the end: one ``INSERT`` per table for the new rows, in the order
their tables were first added to (an event before the runs it starts, a run before its steps and
messages, whose foreign keys Django fills from the just-inserted rows), then the changed rows —
one ``UPDATE`` per row, or one bulk ``UPDATE`` for several rows of a table. Ids of new rows are
known after the flush only: code that needs one earlier calls :func:`flush_current`.

Usage (the caller owns the transaction)::

    with transaction.atomic(), unit_of_work() as unit:
        ...                       # code that calls unit.add(...) / unit.update(...)
    # flushed at the end of the with-block, before the commit

Code deep in the call chain finds the active unit with :func:`current` (None outside one), so
services keep a single signature and write immediately when no unit is active.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import models

from core.db import insert_rows, update_row, update_rows

_current: contextvars.ContextVar[UnitOfWork | None] = contextvars.ContextVar("fluxo_unit_of_work", default=None)


class UnitOfWork:
    def __init__(self) -> None:
        self._new: dict[type[models.Model], list[models.Model]] = {}
        self._updates: dict[int, tuple[models.Model, set[str]]] = {}
        self._after_flush: list[Callable[[], None]] = []
        # Facts read ahead for many contacts at once (a batch's contacts' state), by contact id. A flush
        # forgets the contacts whose rows it writes: what was read ahead may no longer be true of them.
        self.contact_facts: dict[int, object] = {}

    def add(self, instance: models.Model) -> models.Model:
        """Insert ``instance`` at the flush (its id is known after it)."""
        self._new.setdefault(type(instance), []).append(instance)
        return instance

    def is_pending(self, instance: models.Model) -> bool:
        return any(item is instance for item in self._new.get(type(instance), []))

    def update(self, instance: models.Model, fields: list[str] | None = None) -> None:
        """Save ``instance`` (its given fields, or all) at the flush; an instance still to insert is inserted whole."""
        if self.is_pending(instance):
            return
        key = id(instance)
        _, known = self._updates.get(key, (instance, set()))
        known |= set(fields or ["__all__"])
        self._updates[key] = (instance, known)

    def discard(self) -> None:
        """Forget what is not written yet (the savepoint that would have held it was rolled back)."""
        self._new, self._updates, self._after_flush = {}, {}, []
        self.contact_facts = {}
        for memo in ("_kicks", "_outbound_contacts", "_contacts_seen", "_read_receipts", "_locked_contacts", "_outbound_waiting"):  # what callers remembered on this unit
            self.__dict__.pop(memo, None)

    def after_flush(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` right after the flush (ids of bulk-inserted rows are known then)."""
        self._after_flush.append(callback)

    def flush(self) -> None:
        new, self._new = self._new, {}
        if self.contact_facts:
            for instances in new.values():
                for instance in instances:
                    self.contact_facts.pop(getattr(instance, "contact_id", None), None)
            for instance, _fields in self._updates.values():
                self.contact_facts.pop(getattr(instance, "contact_id", None), None)
        for model in _dependency_order(list(new)):
            instances = new[model]
            for start in range(0, len(instances), 500):
                insert_rows(model, instances[start:start + 500])
        updates, self._updates = self._updates, {}
        groups: dict[tuple[type[models.Model], tuple[str, ...]], list[models.Model]] = {}
        for instance, fields in updates.values():
            meta = instance._meta
            names = ([f.name for f in meta.concrete_fields if not f.primary_key] if "__all__" in fields
                     else sorted(fields | {f.name for f in meta.concrete_fields if getattr(f, "auto_now", False)}))
            groups.setdefault((type(instance), tuple(names)), []).append(instance)
        for (model, names), instances in groups.items():
            if len(instances) == 1:
                update_row(instances[0], list(names))
                continue
            for start in range(0, len(instances), 500):
                update_rows(model, instances[start:start + 500], list(names))
        callbacks, self._after_flush = self._after_flush, []
        for callback in callbacks:
            callback()


def _dependency_order(pending: list[type[models.Model]]) -> list[type[models.Model]]:
    """The models in an order where a table comes after the tables its foreign keys point to."""
    ordered: list[type[models.Model]] = []
    visiting: set[type[models.Model]] = set()

    def visit(model: type[models.Model]) -> None:
        if model in ordered or model in visiting:
            return
        visiting.add(model)
        for field in model._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if field.is_relation and target is not None and target is not model and target in pending:
                visit(target)
        visiting.discard(model)
        ordered.append(model)

    for model in pending:
        visit(model)
    return ordered


def current() -> UnitOfWork | None:
    """The unit of work of this call chain, or None (then services write at once)."""
    return _current.get()


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Collect writes for the block and flush them at its end (nested blocks share the outer unit)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    unit = UnitOfWork()
    token = _current.set(unit)
    try:
        yield unit
        unit.flush()
    finally:
        _current.reset(token)


@contextmanager
def unit_suspended() -> Iterator[None]:
    """Write at once inside the block (code that reads back what it wrote, such as an operator's action)."""
    flush_current()
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def flush_current() -> None:
    """Write what the active unit holds now (before code that reads those rows back)."""
    unit = _current.get()
    if unit is not None:
        unit.flush()

