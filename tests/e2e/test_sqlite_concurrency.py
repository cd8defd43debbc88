"""Concurrent token, revocation and refresh requests on SQLite never fail with a 500."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests

from .live_server import REQUEST_TIMEOUT, LiveIdp
from .rp import SERVICE, WEB, authorize_alice, fetch_discovery, token_request

pytestmark = pytest.mark.e2e

THREADS = 4
REQUESTS_PER_THREAD = 15
OVERALL_TIMEOUT = 120


@dataclass
class WorkerResult:
    statuses: list[tuple[str, int, str]] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)


def _endpoints(live_idp: LiveIdp) -> tuple[str, str]:
    discovery = fetch_discovery(live_idp)
    return discovery["token_endpoint"], discovery["revocation_endpoint"]


def _worker(token_endpoint: str, revocation_endpoint: str, revokes: bool) -> WorkerResult:
    """Ask for tokens back to back; a revoking worker also revokes each token as soon as it has it."""
    result = WorkerResult()
    with requests.Session() as http:
        http.auth = SERVICE
        for _ in range(REQUESTS_PER_THREAD):
            response = http.post(
                token_endpoint, data={"grant_type": "client_credentials"}, timeout=REQUEST_TIMEOUT
            )
            result.statuses.append(("token", response.status_code, response.text[:300]))
            if response.status_code != 200:
                continue
            access_token = response.json()["access_token"]
            result.access_tokens.append(access_token)
            if revokes:
                revoked = http.post(
                    revocation_endpoint,
                    data={"token": access_token, "token_type_hint": "access_token"},
                    timeout=REQUEST_TIMEOUT,
                )
                result.statuses.append(("revoke", revoked.status_code, revoked.text[:300]))
    return result


def test_concurrent_client_credentials_and_revocations_never_fail(live_idp):
    token_endpoint, revocation_endpoint = _endpoints(live_idp)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [
            pool.submit(_worker, token_endpoint, revocation_endpoint, index % 2 == 0)
            for index in range(THREADS)
        ]
        results = [future.result(timeout=OVERALL_TIMEOUT) for future in futures]

    statuses = [status for result in results for status in result.statuses]
    server_errors = [status for status in statuses if status[1] >= 500]
    assert not server_errors, (
        f"{len(server_errors)} server errors, e.g. {server_errors[:3]}\n{live_idp.log_tail()}"
    )
    failures = [status for status in statuses if status[1] != 200]
    assert not failures, f"{len(failures)} non-200 answers, e.g. {failures[:3]}\n{live_idp.log_tail()}"

    tokens = [token for result in results for token in result.access_tokens]
    assert len(tokens) == THREADS * REQUESTS_PER_THREAD
    assert len(set(tokens)) == len(tokens), "two requests were given the same access token"
    revocations = [status for status in statuses if status[0] == "revoke"]
    assert len(revocations) == (THREADS // 2) * REQUESTS_PER_THREAD


def _all_at_once(count: int, call):
    """Run ``call`` in ``count`` threads released together by a barrier; return the results."""
    barrier = threading.Barrier(count, timeout=REQUEST_TIMEOUT)

    def released():
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(released) for _ in range(count)]
        return [future.result(timeout=OVERALL_TIMEOUT) for future in futures]


def test_racing_refreshes_of_one_refresh_token_get_one_success_and_no_server_error(live_idp):
    discovery = fetch_discovery(live_idp)
    token_endpoint = discovery["token_endpoint"]
    authorized = authorize_alice(discovery)
    authorized.oauth.close()
    refresh_token = authorized.token["refresh_token"]

    responses = _all_at_once(
        8, lambda: token_request(token_endpoint, WEB, grant_type="refresh_token", refresh_token=refresh_token)
    )

    statuses = Counter(response.status_code for response in responses)
    assert not [code for code in statuses if code >= 500], f"{statuses}\n{live_idp.log_tail()}"
    assert statuses[200] <= 1, statuses
    assert all(
        response.json()["error"] == "invalid_grant" for response in responses if response.status_code != 200
    )
    # The losers were replays of a used refresh token: the whole family is revoked, winner included.
    for response in responses:
        if response.status_code == 200:
            again = token_request(
                token_endpoint,
                WEB,
                grant_type="refresh_token",
                refresh_token=response.json()["refresh_token"],
            )
            assert again.status_code == 400, again.text
            assert again.json()["error"] == "invalid_grant"
