"""``migrate``, which first records that this site's user model took over idp's user table.

A database made while the user model was ``idp.User`` has idp's (and admin's, DOT's ...) migrations
applied but not ``accounts.0001_initial``, on which they depend now that AUTH_USER_MODEL is
``accounts.User``: Django would refuse it as an inconsistent history. That migration only moves the
model in the migration state (the table is idp's, unchanged), so it is recorded as applied, as
Django's outline for changing AUTH_USER_MODEL mid-project fakes it (ticket #25313).
"""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

TAKEN_OVER = ("idp", "0001_initial")
TAKES_OVER = ("accounts", "0001_initial")


def adopt_idp_user_table(connection) -> bool:
    """Record ``accounts.0001_initial`` as applied where idp made the user table; True if it did."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False
    applied = recorder.applied_migrations()
    if TAKEN_OVER in applied and TAKES_OVER not in applied:
        recorder.record_applied(*TAKES_OVER)
        return True
    return False


class Command(MigrateCommand):
    def handle(self, *args, **options):
        if adopt_idp_user_table(connections[options["database"]]) and options["verbosity"] >= 1:
            self.stdout.write("Recorded accounts.0001_initial: the user model now lives in project.accounts.")
        return super().handle(*args, **options)
