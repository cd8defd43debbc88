"""The ``live_idp`` fixture: one real provider process shared by every end-to-end test of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .live_server import LiveIdp, running_idp


@pytest.fixture(scope="session")
def live_idp(tmp_path_factory) -> Iterator[LiveIdp]:
    """A migrated, demo-loaded provider served by ``runserver`` at ``live_idp.base_url`` until the end."""
    with running_idp(tmp_path_factory.mktemp("live_idp")) as idp:
        yield idp
