"""Django requests to oauthlib: DOT's ``OAuthLibCore``, handing oauthlib a query string it can parse."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import OAuthLibCore


class IdpOAuthLibCore(OAuthLibCore):
    """DOT's bridge to oauthlib, passing on the query parameters Django parsed instead of the raw query.

    oauthlib refuses a URI whose query has a broken percent-encoding (``%zz``, a lone ``%``) with a
    ValueError that DOT does not catch: a 500 at the token, revocation, introspection and userinfo
    endpoints. Django decodes the same query leniently (U+FFFD for what is not UTF-8); encoding its
    parameters again gives oauthlib exactly the values the views see, duplicates included.
    """

    def _get_escaped_full_path(self, request: HttpRequest) -> str:
        parts = urlsplit(request.get_full_path())
        return urlunsplit(parts._replace(query=urlencode(list(request.GET.lists()), doseq=True)))
