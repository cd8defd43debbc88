"""What one ID token signature costs per algorithm: RS256 (RSA-2048) against ES256 (P-256).

Usage: python -m bench.signing [-n 2000]
Signs a typical ID token's claims with ``idp.keys.sign_jwt`` in-process (the function the token
endpoint calls), best of 3 rounds, and verifies each kind once with jwcrypto against the served
JWKS. The keys are kept in a throwaway SQLite database, as ``idp_keys rotate`` stores them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def best_of(function, *, rounds: int = 3, number: int) -> float:
    """The least CPU seconds per call over ``rounds`` rounds of ``number`` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(number):
            function()
        best = min(best, (time.process_time() - start) / number)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="signatures per round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'db.sqlite3'}",
            IDP_DEV_KEYS_DIR=str(Path(tmp) / "keys"),
            DJANGO_SETTINGS_MODULE="project.settings",
            IDP_ISSUER="http://127.0.0.1:8000",
        )
        os.environ.pop("IDP_KEY_ENCRYPTION_KEY", None)
        import django

        django.setup()
        from django.core.management import call_command
        from jwcrypto import jwk, jwt

        from idp.key_rotation import emergency_rotate
        from idp.keys import jwks_document, sign_jwt

        call_command("migrate", "--noinput", verbosity=0)
        emergency_rotate(alg="RS256")  # a stored key of each kind signs
        emergency_rotate(alg="ES256")
        now = int(time.time())
        claims = {
            "iss": "http://127.0.0.1:8000", "sub": "f3b0c1d2-8e5a-4c2b-9d1e-7a6b5c4d3e2f", "aud": "demo-web",
            "exp": now + 3600, "iat": now, "auth_time": now, "nonce": "n-0S6_WzA2Mj",
            "jti": "9b2f5d3e-1c4a-4e6b-8f7d-2a1b3c4d5e6f", "azp": "demo-web",
            "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        }  # fmt: skip
        keys = jwk.JWKSet.from_json(jwks_document())
        figures = {}
        for alg in ("RS256", "ES256"):
            jwt.JWT(jwt=sign_jwt(claims, alg=alg), key=keys, algs=[alg])  # raises if it does not verify
            figures[alg] = best_of(lambda alg=alg: sign_jwt(claims, alg=alg), number=args.n)
        print(f"ID token signature, CPU per token (idp.keys.sign_jwt, best of 3 rounds of {args.n}):")
        for alg, seconds in figures.items():
            print(f"  {alg}  {seconds * 1e3:.3f} ms")
        print(f"  RS256 / ES256 = {figures['RS256'] / figures['ES256']:.1f}")


if __name__ == "__main__":
    main()
