"""Django's Redis cache, keeping one Redis client per connection pool instead of one per operation,
and its Lua scripts loaded once (``script()``, which ``idp.api.throttling`` uses when a cache has it).

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache operation;
redis-py fills ~200 response callbacks in each constructor, which cost more CPU than the round
trip itself (~0.5 ms per API request: two throttles, a read and a write each). A client object
is only a handle on its pool and is thread-safe, so one per pool is enough.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache``, with its clients reused and a ``script()``."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._scripts: dict[str, object] = {}

    def script(self, source: str):
        """A Lua script on the write server, as redis-py's ``Script`` (EVALSHA, loaded on first use)."""
        if source not in self._scripts:
            self._scripts[source] = self._cache.get_client(write=True).register_script(source)
        return self._scripts[source]
