"""DOT's protocol endpoints, composed one by one under the ``oauth2_provider`` namespace.

Never ``include("oauth2_provider.urls")``: that also mounts self-service client registration for
any signed-in user. The paths sit at the site root so that the issuer is the bare origin.
"""

from django.urls import path

from .cors import token_endpoint_cors
from .views.authorize import IdpAuthorizationView
from .views.device import DeviceAuthorizationView
from .views.oidc import (
    IdpRPInitiatedLogoutView,
    IdpUserInfoView,
    jwks,
    oauth_authorization_server,
    openid_configuration,
)
from .views.tokens import IdpRevokeTokenView, IdpTokenView, IntrospectionView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize", IdpAuthorizationView.as_view(), name="authorize"),
    path("token", token_endpoint_cors(IdpTokenView.as_view()), name="token"),
    path("device-authorization", DeviceAuthorizationView.as_view(), name="device-authorization"),
    path("revoke", IdpRevokeTokenView.as_view(), name="revoke-token"),
    path("introspect", IntrospectionView.as_view(), name="introspect"),
    path("userinfo", IdpUserInfoView.as_view(), name="user-info"),
    path("end-session", IdpRPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
    path(".well-known/openid-configuration", openid_configuration, name="oidc-connect-discovery-info"),
    path(".well-known/oauth-authorization-server", oauth_authorization_server, name="oauth-server-metadata"),
    path(".well-known/jwks.json", jwks, name="jwks-info"),
]
