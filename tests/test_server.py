"""idp.server: the one method copied from oauthlib stays oauthlib's, and its request parses its query once."""

import ast
import inspect
import textwrap

from oauthlib.common import Request
from oauthlib.oauth2.rfc6749.endpoints.authorization import AuthorizationEndpoint

from idp.server import IdpServer, ParsedRequest

URI = "https://id.example.com/authorize?response_type=code&client_id=web&scope=openid+email&state=s"


def body(function, *, request_class: str) -> str:
    """The function's statements without its docstring, its request class named ``Request``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    statements = tree.body[0].body[1:]  # past the docstring
    for node in ast.walk(ast.Module(body=statements, type_ignores=[])):
        if isinstance(node, ast.Name) and node.id == request_class:
            node.id = "Request"
    return "\n".join(ast.dump(statement) for statement in statements)


def test_the_copied_method_is_oauthlibs_with_a_parsed_request():
    """An oauthlib release that changes the original fails here: copy the change, or drop the copy."""
    original = AuthorizationEndpoint.validate_authorization_request.__wrapped__
    copy = IdpServer.validate_authorization_request.__wrapped__
    assert body(copy, request_class="ParsedRequest") == body(original, request_class="Request")


def test_a_parsed_request_reads_like_oauthlibs():
    ours, theirs = ParsedRequest(URI), Request(URI)
    assert ours.uri_query_params == theirs.uri_query_params
    assert ours.duplicate_params == theirs.duplicate_params == []
    assert ParsedRequest(URI + "&state=t").duplicate_params == ["state"]


def test_a_parsed_request_parses_its_query_once():
    request = ParsedRequest(URI)
    assert request.uri_query_params is request.uri_query_params
    assert request.duplicate_params is request.duplicate_params
