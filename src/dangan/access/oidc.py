"""Single sign-on: Dangan as an OpenID Connect relying party (authorization code + PKCE).

`begin` builds the provider's authorization URL and the signed state cookie (`oidc_state`).
`callback_claims` checks that cookie against the callback, exchanges the code and verifies
the id_token against the provider's JWKS (signature, iss, aud, exp, iat, nonce); the use case
`sso.sso_sign_in` then maps `sub` to an account and opens an ordinary Dangan session.

PKCE and random values come from authlib; JWT checks use joserfc (authlib's own JOSE
successor — `authlib.jose` is deprecated).
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from dangan.access.oidc_state import LoginState, bad_state, sign_state, unsign_state
from dangan.access.ports import AccessDeps
from dangan.core.errors import (
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UpstreamError,
)

METADATA_TTL = 3600.0
# Asymmetric only: "none" and HS* (keyed with the client secret) are never accepted.
ID_TOKEN_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
# The kinds a refused single sign-on is raised as, each recorded as a failed sign-in; a
# ConfigurationError (the operator's to fix) or a rule of accounts is not a refusal.
SSO_REFUSALS = (MalformedInputError, UnauthenticatedError, PermissionDeniedError, UpstreamError)


def sso_disabled() -> NotFoundError:
    return NotFoundError(
        code="sso_disabled", zh="未启用统一身份认证登录", en="single sign-on is not enabled"
    )


def _token_invalid() -> UnauthenticatedError:
    return UnauthenticatedError(
        code="sso_token_invalid",
        zh="身份提供方返回的身份令牌未通过校验",
        en="the identity provider's ID token failed verification",
    )


def _unreachable(zh: str, en: str) -> UpstreamError:
    return UpstreamError(code="sso_provider_unreachable", zh=zh, en=en)


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]


class OidcClient:
    """One per web process: caches the provider's metadata and keys."""

    def __init__(self, deps: AccessDeps, http: httpx.Client | None = None) -> None:
        self.deps = deps
        self.cfg = deps.settings.oidc
        self._http = http or httpx.Client(timeout=self.cfg.http_timeout, follow_redirects=False)
        self._lock = threading.Lock()
        self._meta: tuple[float, ProviderMetadata] | None = None
        self._keys: KeySet | None = None

    def close(self) -> None:
        self._http.close()

    # --- provider documents -----------------------------------------------------------

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            r = self._http.get(url, headers={"Accept": "application/json"})
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unreachable(
                "无法访问统一身份认证服务", "the identity provider cannot be reached"
            ) from exc
        if not isinstance(data, dict):
            raise _unreachable(
                "统一身份认证服务应答有误",
                "the identity provider answered with a malformed document",
            )
        return data

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._meta is not None and time.monotonic() - self._meta[0] < METADATA_TTL:
                return self._meta[1]
        issuer = (self.cfg.issuer or "").rstrip("/")
        doc = self._get_json(f"{issuer}/.well-known/openid-configuration")
        # OIDC Discovery §4.3: the document must name exactly the configured issuer.
        if str(doc.get("issuer", "")).rstrip("/") != issuer:
            raise ConfigurationError(
                code="sso_issuer_mismatch",
                zh="身份提供方声明的 issuer 与配置不一致",
                en="the identity provider's issuer does not match the configured one",
            )
        offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        meta = ProviderMetadata(
            issuer=str(doc["issuer"]),
            authorization_endpoint=str(doc.get("authorization_endpoint", "")),
            token_endpoint=str(doc.get("token_endpoint", "")),
            jwks_uri=str(doc.get("jwks_uri", "")),
            algorithms=tuple(a for a in ID_TOKEN_ALGS if a in offered) or ("RS256",),
        )
        with self._lock:
            self._meta = (time.monotonic(), meta)
        return meta

    def keys(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            self._keys = KeySet.import_key_set(self._get_json(self.metadata().jwks_uri))  # type: ignore[arg-type]
        return self._keys

    # --- the flow --------------------------------------------------------------------

    def begin(self) -> tuple[str, str]:
        """(URL to send the browser to, value of the state cookie)."""
        if not self.cfg.enabled:
            raise sso_disabled()
        meta = self.metadata()
        st = LoginState.new(int(time.time()))
        url = add_params_to_uri(
            meta.authorization_endpoint,
            [
                ("response_type", "code"),
                ("client_id", self.cfg.client_id or ""),
                ("redirect_uri", self.cfg.redirect_uri or ""),
                ("scope", " ".join(self.cfg.scopes)),
                ("state", st.state),
                ("nonce", st.nonce),
                ("code_challenge", create_s256_code_challenge(st.verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return url, sign_state(self.deps.suite, st)

    def callback_claims(
        self, *, cookie: str | None, code: str | None, state: str | None, error: str | None
    ) -> dict[str, Any]:
        """The verified id_token claims of the provider's callback, or a refusal (one of
        `SSO_REFUSALS`): the provider's error, a bad state, a rejected code, a bad token."""
        if error:
            raise MalformedInputError(
                code="sso_provider_error",
                zh="统一身份认证未完成（身份提供方返回错误）",
                en=f"single sign-on did not complete: the provider answered {error[:60]!r}",
            )
        st = unsign_state(self.deps.suite, cookie, int(time.time()))
        if not state or not code or not hmac.compare_digest(st.state, state):
            raise bad_state()
        tokens = self._exchange(code, st.verifier)
        return self.verify_id_token(str(tokens["id_token"]), st.nonce)

    def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        """The token endpoint's answer (client_secret_basic when a secret is configured)."""
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.cfg.redirect_uri or "",
            "code_verifier": verifier,
        }
        headers = {"Accept": "application/json"}
        if self.cfg.client_secret:
            # RFC 6749 §2.3.1: both parts form-encoded before Basic encoding.
            cid, secret = self.cfg.client_id or "", self.cfg.client_secret
            pair = f"{quote(cid, safe='')}:{quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form["client_id"] = self.cfg.client_id or ""
        try:
            r = self._http.post(meta.token_endpoint, data=form, headers=headers)
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unreachable(
                "无法访问统一身份认证服务", "the identity provider cannot be reached"
            ) from exc
        if r.status_code != 200 or not isinstance(data, dict) or "id_token" not in data:
            raise UnauthenticatedError(
                code="sso_code_rejected",
                zh="身份提供方拒绝了登录凭据，请重新登录",
                en="the identity provider rejected the sign-in code; please start again",
            )
        return data

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The id_token's claims once its signature and every required claim check out."""
        meta = self.metadata()
        try:
            try:
                token = jwt.decode(id_token, self.keys(), algorithms=list(meta.algorithms))
            except JoseError:
                # The provider may have rotated its keys since we fetched them: retry once.
                token = jwt.decode(
                    id_token, self.keys(refresh=True), algorithms=list(meta.algorithms)
                )
            claims: dict[str, Any] = dict(token.claims)
            jwt.JWTClaimsRegistry(
                leeway=self.cfg.allowed_clock_skew,
                iss={"essential": True, "value": meta.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": self.cfg.client_id or ""},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise _token_invalid() from exc
        aud = claims["aud"]
        # OIDC Core §3.1.3.7: several audiences need azp naming us.
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.cfg.client_id:
            raise _token_invalid()
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise _token_invalid()
        return claims
