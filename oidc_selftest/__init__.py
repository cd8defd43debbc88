"""Self-test of a running OpenID Provider against the OpenID Foundation certification test plans.

The checks of the Basic OP (38 modules), Config OP (1) and RP-Initiated Logout OP (11) plans, run
over HTTP against a deployed issuer by an independent relying party: ``requests`` for the
back-channel, one ``requests.Session`` per simulated browser (its cookie jar) that fills in the
provider's login, consent and sign-out pages itself, and ``jwcrypto`` to verify ID tokens against
the published JWKS. Nothing here imports Django or the provider's code: what is tested is only what
the deployment says and does on the wire. The package lives outside ``idp`` and is not part of the
reusable app's distribution; ``manage.py idp_selftest`` imports it from a checkout of the repository.

The relying party never needs to listen anywhere: a redirect to one of its URIs is captured from the
``Location`` header and never followed. Every authorization request carries PKCE S256.

Modules, in the order they depend on each other: ``registry`` (plans, verdicts, configuration, the
module registry), ``pkce`` and ``forms`` (shared with the benchmark and the end-to-end tests),
``http`` (URL and response helpers), ``trace`` (``--trace``, secrets masked), ``browser``, ``pages``
(recognising any provider's login, consent and sign-out pages), ``context`` (one module's run), ``flows``
(authorization requests), ``tokens`` (token endpoint, ID tokens, userinfo), ``plans/`` (one module
per plan section, each check registered with ``@module``) and ``runner``. Nothing is tuned to our own
provider's markup: ``tests/e2e/test_selftest_node_op.py`` runs it against node-oidc-provider too.

Entry points, all in ``runner``: :data:`MODULES` (the registry, filled by importing ``runner``),
:func:`select_modules`, :func:`run_selftest` and :func:`summary_line`. ``manage.py idp_selftest``
only parses arguments and prints. This file imports nothing, so that the shared ``pkce`` and
``forms`` modules can be imported without the self-test's checks.
"""
