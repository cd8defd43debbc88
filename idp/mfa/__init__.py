"""Second factors: TOTP, recovery codes and passkeys, the second sign-in step, amr/acr and step-up."""
