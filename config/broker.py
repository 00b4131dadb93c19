"""The embedded default's Celery broker: kombu's SQLAlchemy transport on a SQLite file, hardened.

Chosen because every take of a message is a transaction (``BEGIN IMMEDIATE`` on SQLite), so web,
beat and several workers can share one file safely — unlike kombu's filesystem transport, where a
reader could see a message file before its writer had filled it (``JSONDecodeError``, a dead
worker). Four changes to kombu's transport, each for a multi-process SQLite file that must run
for days:

* two processes creating a queue's row (or the tables) at the same moment both go on;
* the database is put in WAL mode (readers do not wait for the writer) with a busy timeout;
* a message taken by a worker is deleted in the same transaction instead of kept as an invisible
  row (kombu acknowledges in the worker's memory and never reads the row again, so the table
  would grow by one row per task forever: beat alone sends several tasks a second);
* the poll interval comes from ``FLUXO_BROKER_POLL_INTERVAL`` (kombu would pass a
  ``polling_interval`` transport option on to ``create_engine``, which refuses it).

Selected by ``CELERY_BROKER_TRANSPORT`` in config/settings.py; production uses Redis instead.
"""

from __future__ import annotations

import os
import time
from json import loads
from queue import Empty

from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Every new connection to the broker file: WAL journal, wait for locks, cheap fsyncs."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Channel(kombu_sqla.Channel):
    """kombu's SQLAlchemy channel whose takes delete the message row."""

    def _open(self):
        """The engine and session factory; tolerates another process creating the tables first.

        kombu creates its tables on first use; two processes starting together both see no table
        and one of them fails with "table kombu_queue already exists". Trying again sees the table.
        """
        for attempt in range(5):
            try:
                return super()._open()
            except OperationalError as exc:
                if "already exists" not in str(exc) or attempt == 4:
                    raise
                self._engines.pop(self.connection.client.hostname, None)
                time.sleep(0.2 * (attempt + 1))

    def _get_or_create(self, queue):
        """The queue's row; when another process inserts it at the same moment, that row.

        kombu catches only OperationalError here: the loser of the race got an IntegrityError
        (UNIQUE constraint failed: kombu_queue.name), and the worker died at start-up.
        """
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            self.session.rollback()
            return super()._get_or_create(queue)

    def _engine_from_config(self):
        engine = super()._engine_from_config()
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _get(self, queue):
        """The oldest message of ``queue``, removed from the table in one write transaction."""
        obj = self._get_or_create(queue)
        session = self.session
        if session.bind.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            msg = (
                session.query(self.message_cls)
                .with_for_update()
                .filter(self.message_cls.queue_id == obj.id)
                .filter(self.message_cls.visible != False)  # noqa: E712 - SQL expression, not a Python test
                .order_by(self.message_cls.sent_at)
                .order_by(self.message_cls.id)
                .limit(1)
                .first()
            )
            if msg is None:
                raise Empty()
            payload = loads(bytes_to_str(msg.payload))
            session.delete(msg)
            return payload
        finally:
            session.commit()


class Transport(kombu_sqla.Transport):
    """kombu's SQLAlchemy transport with :class:`Channel` and the configured poll interval."""

    Channel = Channel
    polling_interval = float(os.environ.get("FLUXO_BROKER_POLL_INTERVAL", "0.5"))
