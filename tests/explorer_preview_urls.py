"""The provider's URLs plus a page showing the explorer's partials over a hand-built run: test-only."""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path

from idp.explorer.presentation import diagram_context, exports_context, tokens_context
from tests import explorer_samples

PAGE = """{% extends "idp/base.html" %}{% load static %}
{% block title %}Flow explorer preview{% endblock %}
{% block head %}<link rel="stylesheet" href="{% static 'idp/explorer.css' %}">{% endblock %}
{% block card_class %} explorer{% endblock %}
{% block content %}<h1>Flow explorer preview</h1>
{% include "idp/explorer/_diagram.html" %}{% include "idp/explorer/_tokens.html" %}
{% include "idp/explorer/_exports.html" %}{% endblock %}"""
KEY = explorer_samples.signing_key("ES256")


def preview(request: HttpRequest) -> HttpResponse:
    run = explorer_samples.web_run(KEY, broken_secret=request.GET.get("broken") == "1")
    if request.GET.get("rtl") == "1":  # no step of a real run points left; the stylesheet can draw one
        run.append(explorer_samples.exchange(9, "userinfo", "userinfo", "rp", "GET", "/", 204))
    reveal = request.GET.get("reveal") == "1"
    run_of = {"issuer": explorer_samples.ISSUER, "client_id": explorer_samples.CLIENT_ID}
    context = {
        **diagram_context(run, reveal=reveal),
        **tokens_context(run, **run_of, nonce=explorer_samples.NONCE, reveal=reveal),
        **exports_context(run, **run_of, flow="web", confidential=True),
    }
    response = HttpResponse(engines["django"].from_string(PAGE).render(context, request))
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("test-explorer-preview", preview),
    path("", include("project.urls")),
]
