"""Django's PostgreSQL backend, with a connection health check that needs no round trip.

``CONN_HEALTH_CHECKS`` makes Django run ``SELECT 1`` before the first query of every request on a
kept connection, so that a database restart costs a reconnect rather than an HTTP 500. On a bearer
token check that is a second round trip for one useful query. Here the check looks at the socket
instead: an idle connection between requests has nothing to read, while a server that restarts,
shuts down or terminates the session sends a FATAL notice and closes it, and a reset connection
reads as closed too. Only then (or if the socket cannot be checked) does Django's ``SELECT 1``
decide.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper


class DatabaseWrapper(PostgresDatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self.quiet_and_open():
            self.close()
        self.health_check_done = True

    def quiet_and_open(self) -> bool:
        """True if the connection is open with nothing unasked-for to read; else Django's check."""
        try:
            if self.connection.closed:
                return False
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return self.is_usable()
        return not readable or self.is_usable()
