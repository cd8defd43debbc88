"""A run as a bash script of curl commands: its back-channel requests again, secrets from the environment."""

from __future__ import annotations

import base64
import binascii
import json
import shlex
from collections.abc import Iterator, Sequence
from urllib.parse import parse_qsl, quote, unquote_plus

from .glossary import BREAKS, STEPS
from .masking import secret_values
from .messages import error_of, path_of, reason_of, split_url
from .records import NEVER_RECORDED_HEADERS, NEVER_RECORDED_NAMES, SECRET_NAMES, Exchange, RecordedRequest
from .script_parts import PREAMBLE, Raw, authorization_block, command, device_loop, word

# The shell variable a secret parameter becomes when no earlier response in the script set its value.
VARIABLE_OF = {
    "client_secret": "CLIENT_SECRET",
    "code": "CODE",
    "code_verifier": "CODE_VERIFIER",
    "access_token": "ACCESS_TOKEN",
    "refresh_token": "REFRESH_TOKEN",
    "id_token": "ID_TOKEN",
    "id_token_hint": "ID_TOKEN",
    "device_code": "DEVICE_CODE",
    "token": "TOKEN",
    "logout_token": "LOGOUT_TOKEN",
    "authorization": "AUTHORIZATION",
}
# What the environment must give when the script did not obtain it itself.
REQUIRED = {
    "CLIENT_SECRET": "the client secret of $CLIENT_ID",
    "REFRESH_TOKEN": "a refresh token issued to $CLIENT_ID",
    "ACCESS_TOKEN": "an access token issued to $CLIENT_ID",
    "ID_TOKEN": "an ID token issued to $CLIENT_ID",
}
# Response members the script keeps in a variable for the requests after it.
KEPT_FROM_RESPONSES = ("access_token", "refresh_token", "id_token", "device_code")
SKIPPED_HEADERS = NEVER_RECORDED_HEADERS | {
    "host",
    "content-length",
    "user-agent",
    "accept-encoding",
    "connection",
    "transfer-encoding",
}
WRONG_SECRET = "not-the-client-secret"  # noqa: S105 (what the wrong_secret break sends, on purpose)
FLOW_LABELS = {
    "web": "web app: authorization code + PKCE, with a client secret",
    "spa": "single-page or native app: authorization code + PKCE, no secret",
    "device": "device authorization grant",
    "client_credentials": "client credentials",
    "refresh": "refresh token",
}
# A recorded secret shorter than this is not searched for in the script (it would match by chance).
SHORTEST_GUARDED_SECRET = 8


def curl_script(
    exchanges: Sequence[Exchange], *, issuer: str, client_id: str, flow: str, confidential: bool
) -> str:
    """A bash script that sends the run's back-channel requests again, with curl, jq and openssl.

    No secret is written in it: the client secret, and any token the script did not obtain itself,
    come from environment variables; state, nonce and the PKCE verifier are fresh (openssl). For a code
    flow it prints the authorization URL and reads the address the browser was sent back to (or just
    the code). A request broken on purpose is broken the same way. ``confidential``: authenticate
    token-endpoint requests with the client secret even where the record shows no authentication."""
    script = _Script(issuer=issuer, client_id=client_id, confidential=confidential)
    for group in _groups(sorted(exchanges, key=lambda exchange: exchange.seq)):
        script.add(group)
    secrets = {value for exchange in exchanges for value in secret_values(exchange)}
    return script.render(flow, secrets={value for value in secrets if len(value) >= SHORTEST_GUARDED_SECRET})


def _groups(exchanges: Sequence[Exchange]) -> Iterator[list[Exchange]]:
    """The exchanges one by one, except consecutive device polls: one group, one polling loop."""
    group: list[Exchange] = []
    for exchange in exchanges:
        if group and not (exchange.step == "device_poll" == group[-1].step):
            yield group
            group = []
        group.append(exchange)
    if group:
        yield group


class _Script:
    """The script's body, built request by request, and the variables it sets and uses."""

    def __init__(self, *, issuer: str, client_id: str, confidential: bool) -> None:
        self.issuer = issuer.rstrip("/")
        self.base_path = split_url(self.issuer).path
        self.client_id = client_id
        self.confidential = confidential
        self.lines: list[str] = []
        self.assigned: set[str] = set()
        self.used: set[str] = set()
        self.values: dict[str, str] = {}  # a secret value a response carried -> the variable holding it
        self.authorized = False

    def add(self, group: list[Exchange]) -> None:
        """The script's lines for one exchange (or one run of device polls)."""
        first, last = group[0], group[-1]
        if first.source == "browser" and first.step == "authorization_request" and not self.authorized:
            self.authorized = True
            self._authorization(first)
        if first.source != "rp":
            return  # the browser's other requests are the person's to make
        self.lines += ["", f"# {_heading(group)}"]
        if first.broken:
            label = BREAKS[first.broken].label if first.broken in BREAKS else first.broken
            self.lines.append(f"# Broken on purpose: {_comment(label)}.")
        if first.broken == "expired_code":
            self.lines += [
                'echo "Waiting for the code to expire..."',
                'sleep "$(( ${CODE_LIFETIME:-60} + 1 ))"',
            ]
        request = command("call", self._arguments(last))
        self.lines += device_loop(request) if first.step == "device_poll" else request
        self._keep(last)

    def _authorization(self, exchange: Exchange) -> None:
        url = split_url(exchange.request.url)
        params = [
            pair
            for pair in parse_qsl(url.query, keep_blank_values=True)
            if pair[0] not in NEVER_RECORDED_NAMES
        ]
        parts: list[str | Raw] = [Raw("${ISSUER}"), self._path(url.path)]
        for index, (name, value) in enumerate(params):
            parts.append(("?" if index == 0 else "&") + quote(name, safe="") + "=")
            if name == "client_id":
                parts.append(Raw('$(urlencode "$CLIENT_ID")'))
            elif name in {"state", "nonce", "code_challenge"}:
                parts.append(Raw("${" + name.upper() + "}"))
            else:
                parts.append(self._value(name, value, exchange, in_url=True))
        pkce = any(name == "code_challenge" for name, _value in params)
        self.lines += authorization_block(heading=_heading([exchange]), url=word(parts), pkce=pkce)
        self.assigned |= {"STATE", "NONCE", "CODE"} | ({"CODE_VERIFIER", "CODE_CHALLENGE"} if pkce else set())

    def _arguments(self, exchange: Exchange) -> list[str]:
        """curl's arguments, one option (with its value) per item, for the exchange's request."""
        request = exchange.request
        url = split_url(request.url)
        form = _is_form(request)
        args = []
        if request.method.upper() != "GET" and not (request.method.upper() == "POST" and request.body):
            args.append("-X " + word([request.method.upper()]))
        parts: list[str | Raw] = [Raw("${ISSUER}"), self._path(url.path)]
        for index, (name, value) in enumerate(parse_qsl(url.query, keep_blank_values=True)):
            parts += [
                ("?" if index == 0 else "&") + quote(name, safe="") + "=",
                self._value(name, value, exchange, in_url=True),
            ]
        args.append(word(parts))
        authenticated = False
        for name, value in request.headers:
            lowered = name.lower()
            if lowered in SKIPPED_HEADERS or (lowered == "content-type" and form):
                continue
            if lowered == "authorization":
                authenticated = authenticated or value.lower().startswith("basic ")
                args.append(self._authorization_header(value, exchange))
            else:
                args.append("-H " + word([f"{name}: ", self._value(lowered, value, exchange)]))
        if form:
            params = [(name, value) for name, value in parse_qsl(request.body, keep_blank_values=True)]
            authenticated = authenticated or any(name == "client_secret" for name, _value in params)
            args += [
                "--data-urlencode " + word([f"{name}=", self._value(name, value, exchange)])
                for name, value in params
                if name not in NEVER_RECORDED_NAMES
            ]
        elif request.body:
            args.append("--data-binary " + word(self._json_body(request.body, exchange)))
        if self.confidential and not authenticated and exchange.target == "token":
            args.append("-u " + word([Raw("${CLIENT_ID}"), ":", self._secret("client_secret", "", exchange)]))
        return args

    def _authorization_header(self, value: str, exchange: Exchange) -> str:
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            secret = unquote_plus(decoded.partition(":")[2])
            return "-u " + word([Raw("${CLIENT_ID}"), ":", self._secret("client_secret", secret, exchange)])
        name = "access_token" if scheme.lower() == "bearer" else "authorization"
        token = self._secret(name, credentials.strip(), exchange)
        return "-H " + word(
            [f"Authorization: {scheme} " if name == "access_token" else "Authorization: ", token]
        )

    def _path(self, path: str) -> str:
        """``path`` relative to the issuer's own path (``$ISSUER`` precedes it)."""
        return path[len(self.base_path) :] if self.base_path and path.startswith(self.base_path) else path

    def _value(self, name: str, value: str, exchange: Exchange, *, in_url: bool = False) -> str | Raw:
        if name in SECRET_NAMES or value in self.values:
            return self._secret(name, value, exchange)
        return quote(value, safe="") if in_url else value

    def _secret(self, name: str, value: str, exchange: Exchange) -> str | Raw:
        """What stands for a secret: a variable the script set, else one from the environment."""
        if name == "client_secret" and exchange.broken == "wrong_secret":
            return WRONG_SECRET
        if name == "code_verifier" and exchange.broken == "wrong_verifier":
            if "WRONG_CODE_VERIFIER" not in self.assigned:
                self.lines.append(
                    "WRONG_CODE_VERIFIER=$(new_secret)  # a verifier, not the one behind the challenge"
                )
                self.assigned.add("WRONG_CODE_VERIFIER")
            variable = "WRONG_CODE_VERIFIER"
        else:
            variable = self.values.get(value) or VARIABLE_OF.get(name) or "SECRET"
        self.used.add(variable)
        return Raw("${" + variable + "}")

    def _json_body(self, body: str, exchange: Exchange) -> list[str | Raw]:
        mark = "\ue000"  # a private-use character: json.dumps keeps it as it is with ensure_ascii=False
        body = body.replace(mark, "")
        try:
            data = json.loads(body)
        except ValueError:
            return [body]
        if not isinstance(data, dict):
            return [json.dumps(data)]
        secrets = {
            name: self._secret(name, str(data[name]), exchange) for name in sorted(SECRET_NAMES & data.keys())
        }
        chunks = {name: f"{mark}{name}{mark}" if name in secrets else value for name, value in data.items()}
        text = json.dumps(chunks, ensure_ascii=False)
        return [secrets[piece] if index % 2 else piece for index, piece in enumerate(text.split(mark))]

    def _keep(self, exchange: Exchange) -> None:
        """A variable for each token (or device code) the response carried: a new one for each new value."""
        try:
            data = json.loads(exchange.response.body)
        except ValueError:
            return
        if not isinstance(data, dict) or error_of(exchange)[0]:
            return
        for member in KEPT_FROM_RESPONSES:
            if not isinstance(data.get(member), str) or not data[member]:
                continue
            variable, number = member.upper(), 1
            while variable in self.assigned:
                number += 1
                variable = f"{member.upper()}_{number}"
            self.assigned.add(variable)
            self.values[data[member]] = variable
            self.lines.append(f"{variable}=$(jq -r '.{member} // empty' <<<\"$BODY\")")
        if exchange.step == "device_authorization":
            self.lines += [
                "echo \"On another device, open $(jq -r '.verification_uri_complete // .verification_uri' "
                '<<<"$BODY") and enter the code $(jq -r \'.user_code\' <<<"$BODY")."',
                "INTERVAL=$(jq -r '.interval // 5' <<<\"$BODY\")",
            ]

    def render(self, flow: str, *, secrets: set[str]) -> str:
        """The whole script; as a last guard, any recorded secret value found in it is removed."""
        required = sorted(self.used - self.assigned)
        example = f"export {required[0]}=..." if required else "none is needed for this run."
        head = [
            "#!/usr/bin/env bash",
            f"# The flow explorer's run ({_comment(FLOW_LABELS.get(flow, flow))}) as curl commands.",
            "# It needs curl, jq and openssl. No secret is written here: it reads them from the",
            f"# environment ({example})",
            "set -euo pipefail",
            "",
            f'if [ -z "${{ISSUER:-}}" ]; then ISSUER={shlex.quote(self.issuer)}; fi',
            f'if [ -z "${{CLIENT_ID:-}}" ]; then CLIENT_ID={shlex.quote(self.client_id)}; fi',
            *[f': "${{{name}:?Set {name} to {REQUIRED.get(name, "its value")}.}}"' for name in required],
            *PREAMBLE,
        ]
        text = "\n".join([*head, *self.lines]) + "\n"
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "[secret removed]")
        return text


def _heading(group: list[Exchange]) -> str:
    first, last = group[0], group[-1]
    numbers = str(first.seq) if first is last else f"{first.seq}-{last.seq}"
    title = STEPS[first.step].title if first.step in STEPS else first.step
    status = last.response.status
    answer = f"{status} {error_of(last)[0] or reason_of(status, last.response.reason)}".strip()
    method = first.request.method.upper()
    return _comment(f"{numbers}. {title}: {method} {path_of(first.request.url)} (in the run: {answer})")


def _comment(text: str) -> str:
    """``text`` fit for a comment line: printable characters only, on one line."""
    return "".join(character if character.isprintable() else " " for character in text)


def _is_form(request: RecordedRequest) -> bool:
    content_type = next((value for name, value in request.headers if name.lower() == "content-type"), "")
    if content_type:
        return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
    body = request.body.lstrip()
    return request.method.upper() == "POST" and bool(body) and not body.startswith(("{", "["))
