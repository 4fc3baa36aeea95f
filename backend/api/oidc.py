"""Bearer JWTs of the clinic's OIDC provider: signature against the provider's JWKS, issuer, audience, expiry.

The key set is fetched on first use and again when a token names a key id we do not know (the provider rotated
its keys), at most once a minute, so a flood of forged key ids cannot make us hammer the provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from backend.domain.errors import AuthenticationFailed, ProviderUnavailable

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
_REFETCH_S = 60.0
INVALID = "The bearer token was refused (signature, issuer, audience or expiry): sign in again."


class OidcVerifier:
    """Checks one provider's access or ID tokens.

    Args:
        issuer: the exact ``iss`` the provider puts in its tokens.
        audience: the ``aud`` this API must find in them.
        jwks_url: the provider's key set; empty: read from ``<issuer>/.well-known/openid-configuration``.
        clock: seconds since the epoch (tests pass a fixed one).
        http: an httpx2 client (tests point it anywhere); one with a short timeout when None.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str = "",
        clock: Callable[[], float] = time.time,
        http: httpx2.Client | None = None,
    ) -> None:
        self.issuer, self.audience, self._jwks_url = issuer, audience, jwks_url
        self._clock = clock
        self._http = http or httpx2.Client(timeout=5.0)
        self._keys: KeySet | None = None
        self._fetched_at = -_REFETCH_S
        self._lock = threading.Lock()

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``.

        Raises:
            AuthenticationFailed: bad signature, unknown key, wrong issuer or audience, expired, malformed.
            ProviderUnavailable: the key set could not be fetched.
        """
        try:
            try:
                decoded = jwt.decode(token, self._key_set(refresh=False), algorithms=list(ALGORITHMS))
            except InvalidKeyIdError:  # a key we have not seen: the provider may have rotated its keys
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=list(ALGORITHMS))
        except (JoseError, ValueError, TypeError) as e:
            raise AuthenticationFailed(INVALID) from e
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=30,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as e:
            raise AuthenticationFailed(INVALID) from e
        return dict(decoded.claims)

    def _key_set(self, refresh: bool) -> KeySet:
        with self._lock:
            stale = self._keys is None or (refresh and self._clock() - self._fetched_at >= _REFETCH_S)
            if stale:
                self._keys = KeySet.import_key_set(self._get(self._jwks_location()))  # type: ignore[arg-type]
                self._fetched_at = self._clock()
            if self._keys is None:  # pragma: no cover - set just above
                raise ProviderUnavailable("The sign-in provider's keys are not loaded.")
            return self._keys

    def _jwks_location(self) -> str:
        if not self._jwks_url:
            found = self._get(self.issuer.rstrip("/") + "/.well-known/openid-configuration").get("jwks_uri")
            if not isinstance(found, str) or not found:
                raise ProviderUnavailable("The sign-in provider's discovery document names no jwks_uri.")
            self._jwks_url = found
        return self._jwks_url

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            body = response.json()
        except (httpx2.HTTPError, ValueError) as e:
            raise ProviderUnavailable(f"The sign-in provider's keys could not be read ({type(e).__name__}).") from e
        if not isinstance(body, dict):
            raise ProviderUnavailable("The sign-in provider's key set is not a JSON object.")
        return body
