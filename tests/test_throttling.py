"""The API's request limits: counted atomically, one Redis round trip per request, windows that reopen."""

import threading
import time

import pytest
import redis
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from idp.api.throttling import _count, parse_rate
from tests.conftest import basic_auth
from tests.factories import ServiceClientFactory

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/15"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
LOCAL = {"default": {"BACKEND": LOCMEM, "LOCATION": "throttle-tests"}}
REDIS = {"default": {"BACKEND": "project.cache.RedisCache", "LOCATION": REDIS_URL}}
# Django's own Redis cache has no script(): the limits are counted with get and set there.
DJANGO_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}


def use_cache(settings, name: str):
    if name in ("redis", "django-redis"):
        try:
            redis.Redis.from_url(REDIS_URL).flushdb()
        except redis.ConnectionError as exc:  # .ci/run starts Redis; a bare machine may lack it
            pytest.skip(f"Redis is not reachable: {exc}")
    settings.CACHES = {"redis": REDIS, "django-redis": DJANGO_REDIS}.get(name, LOCAL)
    caches["default"].clear()


@pytest.fixture(params=["local", "redis", "django-redis"])
def backend(request, settings):
    use_cache(settings, request.param)
    yield request.param
    caches["default"].clear()


@pytest.fixture
def on_redis(settings):
    use_cache(settings, "redis")
    yield redis.Redis.from_url(REDIS_URL)
    caches["default"].clear()


@pytest.fixture
def token(client, db):
    service = ServiceClientFactory(client_id="directory-svc", allowed_scopes="users:read")
    data = {"grant_type": "client_credentials", "scope": "users:read"}
    response = client.post("/token", data, HTTP_AUTHORIZATION=basic_auth(service.client_id))
    return response.json()["access_token"]


def users(client, token: str):
    return client.get("/api/v1/users", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("1200/minute", (1200, 60)),
        ("5/s", (5, 1)),
        ("2/hour", (2, 3600)),
        ("1/day", (1, 86400)),
        (None, None),
    ],
)
def test_rates_read_like_drf_rates(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["fast", "10", "10/fortnight", "/minute", "-1/minute", "ten/minute"])
def test_a_malformed_rate_is_refused_at_start_up(settings, rate):
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(rate)
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": {"client": rate, "user": None}}
    with pytest.raises(SystemCheckError, match=r"idp\.E006"):
        call_command("check")


def test_the_limit_holds_then_its_window_reopens(settings, backend, client, token):
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": {"client": "2/second", "user": None}}
    assert [users(client, token).status_code for _ in range(2)] == [200, 200]
    refused = users(client, token)
    assert refused.status_code == 429 and refused.json()["error"] == "throttled"
    assert refused["Retry-After"] == "1"
    time.sleep(1.1)
    assert users(client, token).status_code == 200


def test_concurrent_requests_are_each_counted_once(on_redis):
    hits, threads = [], []
    for _ in range(40):
        threads.append(threading.Thread(target=lambda: hits.append(_count(["race"], [60])[0][0])))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(hits) == list(range(1, 41))  # DRF's read-then-write throttle loses counts here


def test_every_limit_of_a_request_costs_one_redis_round_trip(settings, on_redis, client, tokens):
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": {"client": "100/minute", "user": "100/minute"}}
    server = on_redis
    me = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/me", **me).status_code == 200  # loads the script once
    before = server.info("commandstats")
    for _ in range(3):
        assert client.get("/api/v1/me", **me).status_code == 200
    after = server.info("commandstats")
    calls = {name: after[name]["calls"] - before.get(name, {"calls": 0})["calls"] for name in after}
    # Three requests with two limits each: three script calls, and no GET or SET.
    assert calls.get("cmdstat_evalsha") == 3, calls
    assert not {"cmdstat_get", "cmdstat_set"} & {name for name, n in calls.items() if n}
    keys = sorted(key.decode().rsplit(":", 2)[-2] for key in server.keys("*idp_api_throttle*"))
    assert keys == ["client", "user"]
    assert all(int(server.get(key)) == 4 for key in server.keys("*idp_api_throttle*"))


def test_an_unreachable_cache_serves_the_request_and_says_why(settings, client, token, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "project.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": {"client": "1/minute", "user": None}}
    assert [users(client, token).status_code for _ in range(2)] == [200, 200]
    assert "API limits not counted" in caplog.text


def test_a_drf_throttle_added_to_a_view_is_still_asked(rf):
    from rest_framework.exceptions import Throttled
    from rest_framework.throttling import BaseThrottle

    from idp.api.views import MeApi

    class Closed(BaseThrottle):
        def allow_request(self, request, view):
            return False

        def wait(self):
            return 7

    view = MeApi()
    view.throttle_classes = [*MeApi.throttle_classes, Closed]
    request = view.initialize_request(rf.get("/api/v1/me"))
    with pytest.raises(Throttled) as raised:
        view.check_throttles(request)
    assert raised.value.wait == 7
