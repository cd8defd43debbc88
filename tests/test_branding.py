"""Site name, logo and accent colour from the IDP settings; the theme stylesheet and its checks."""

import pytest

from idp.branding import contrast_ratio
from idp.checks import check_branding

pytestmark = pytest.mark.django_db


def test_layout_shows_the_configured_name_and_logo(client, settings):
    settings.IDP = {**settings.IDP, "SITE_NAME": "Wonderland ID", "SITE_LOGO": "brand/logo.svg"}
    html = client.get("/login").content.decode()
    assert "<title>Sign in · Wonderland ID</title>" in html
    assert '<img src="/static/brand/logo.svg"' in html


def test_theme_stylesheet_carries_the_accent_colour(client, settings):
    settings.IDP = {**settings.IDP, "ACCENT_COLOR": "#6a1b9a"}
    response = client.get("/theme.css")
    assert response["Content-Type"].startswith("text/css")
    assert "--accent: #6a1b9a;" in response.content.decode()


def test_an_invalid_colour_never_reaches_the_stylesheet(client, settings):
    settings.IDP = {**settings.IDP, "ACCENT_COLOR": "red;} body{display:none"}
    assert "--accent: #0b57d0;" in client.get("/theme.css").content.decode()
    assert [message.id for message in check_branding(None)] == ["idp.E005"]


def test_a_colour_too_light_for_white_text_is_warned_about(settings):
    settings.IDP = {**settings.IDP, "ACCENT_COLOR": "#ffcc00"}
    assert [message.id for message in check_branding(None)] == ["idp.W001"]
    settings.IDP = {**settings.IDP, "ACCENT_COLOR": "#0b57d0"}
    assert check_branding(None) == []


def test_contrast_ratio_matches_wcag():
    assert round(contrast_ratio("#000000"), 1) == 21.0
    assert round(contrast_ratio("#ffffff"), 1) == 1.0
    assert round(contrast_ratio("#767676"), 2) == 4.54


def test_theme_url_changes_with_the_colour(client, settings):
    before = client.get("/login").context["idp_site"]["theme_version"]
    settings.IDP = {**settings.IDP, "ACCENT_COLOR": "#6a1b9a"}
    assert client.get("/login").context["idp_site"]["theme_version"] != before
