"""Migrations keep what relying parties already hold: every ``sub`` ever issued survives them."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from idp.subjects import sub_for

BEFORE_SUBJECTS = ("idp", "0007_audit_account_lifecycle_events")
SUBJECTS = ("idp", "0008_subjects")


def migrate(to: list[tuple[str, str]]):
    """Migrate the test database to ``to`` and return the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(to)
    return executor.loader.project_state(to).apps


@pytest.mark.django_db(transaction=True)
def test_a_sub_issued_before_the_subjects_table_is_the_sub_after_it():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("idp")
    try:
        old = migrate([BEFORE_SUBJECTS])
        issued = uuid.uuid4()
        person = old.get_model("idp", "User").objects.create(username="early", sub=issued)
        new = migrate([SUBJECTS])
        subject = new.get_model("idp", "Subject").objects.get(user_id=person.pk)
        assert subject.value == str(issued)
    finally:
        migrate(latest)

    assert sub_for(get_user_model().objects.get(username="early"), None) == str(issued)
