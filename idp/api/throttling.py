"""Request rates per client and per person, from ``IDP["API_THROTTLE_RATES"]``."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from ..conf import idp_settings


class IdpRateThrottle(SimpleRateThrottle):
    """A rate read from the IDP settings on every request, so ``override_settings`` just works."""

    cache_format = "idp_api_throttle_%(scope)s_%(ident)s"

    def get_rate(self) -> str | None:
        return idp_settings.API_THROTTLE_RATES.get(self.scope)


class ClientRateThrottle(IdpRateThrottle):
    """Limits the requests made with all the tokens of one client."""

    scope = "client"

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.application_id}


class PersonRateThrottle(IdpRateThrottle):
    """Limits the requests made on behalf of one person, whichever client makes them."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None or request.user is None or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
