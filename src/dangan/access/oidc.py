"""Single sign-on: Dangan as an OpenID Connect relying party (authorization code + PKCE).

`begin` builds the provider's authorization URL and a signed state cookie holding `state`,
`nonce` and the PKCE verifier, so nothing is stored on the server between the two legs and
the callback only succeeds in the browser that started it. `finish` checks that cookie,
exchanges the code, verifies the id_token against the provider's JWKS (signature, iss, aud,
exp, iat, nonce), maps `sub` to `users.oidc_subject` and opens an ordinary Dangan session.
Every refusal is written to the ledger as a failed `auth.sign_in` with method "oidc".

PKCE and random values come from authlib; JWT checks use joserfc (authlib's own JOSE
successor — `authlib.jose` is deprecated).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dangan.access import services
from dangan.access.models import Department, RoleAssignment, User
from dangan.core.clock import utcnow
from dangan.core.errors import ConfigurationError, DanganError
from dangan.policy.domain import STAFF

if TYPE_CHECKING:
    from dangan.bootstrap import Container

STATE_COOKIE = "dangan_oidc"
STATE_PATH = "/api/v1/auth/oidc"
STATE_MAX_AGE = 600  # seconds a browser has to come back from the provider
METADATA_TTL = 3600.0
# Asymmetric only: "none" and HS* (keyed with the client secret) are never accepted.
ID_TOKEN_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
_STATE_KEY_LABEL = b"dangan/web/oidc-state/v1\x00"


@dataclass
class SsoError(DanganError):
    """Single sign-on refused; `status` is the HTTP status (400, 401, 403, 502)."""

    status: int = 400


def _error(code: str, status: int, zh: str, en: str) -> SsoError:
    return SsoError(code=code, zh=zh, en=en, status=status)


def sso_disabled() -> SsoError:
    return _error("sso_disabled", 404, "未启用统一身份认证登录", "single sign-on is not enabled")


def _bad_state() -> SsoError:
    return _error(
        "sso_state_invalid",
        400,
        "登录请求无效、已使用或已过期，请重新登录",
        "the sign-in request is invalid, already used or expired; please start again",
    )


def _token_invalid() -> SsoError:
    return _error(
        "sso_token_invalid",
        401,
        "身份提供方返回的身份令牌未通过校验",
        "the identity provider's ID token failed verification",
    )


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class LoginState:
    state: str
    nonce: str
    verifier: str
    issued_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OidcClient:
    """One per web process: caches the provider's metadata and keys."""

    def __init__(self, c: Container, http: httpx.Client | None = None) -> None:
        self.c = c
        self.cfg = c.settings.oidc
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
            raise _error(
                "sso_provider_unreachable",
                502,
                "无法访问统一身份认证服务",
                "the identity provider cannot be reached",
            ) from exc
        if not isinstance(data, dict):
            raise _error(
                "sso_provider_unreachable",
                502,
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

    # --- the state cookie --------------------------------------------------------------

    def _state_key(self) -> bytes:
        master = getattr(self.c.suite, "master_key", None)
        if not callable(master):
            raise ConfigurationError(
                code="no_master_key",
                zh="加密套件没有主密钥，无法签署登录状态",
                en="the crypto suite has no master key to sign the sign-in state with",
            )
        return self.c.suite.hash(_STATE_KEY_LABEL + bytes(master()))

    def _sign(self, st: LoginState) -> str:
        payload = _b64(
            json.dumps(
                {"s": st.state, "n": st.nonce, "v": st.verifier, "t": st.issued_at},
                separators=(",", ":"),
            ).encode()
        )
        mac = hmac.new(self._state_key(), payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{_b64(mac)}"

    def _unsign(self, value: str | None, now: int) -> LoginState:
        if not value or value.count(".") != 1:
            raise _bad_state()
        payload, mac = value.split(".")
        want = hmac.new(self._state_key(), payload.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(want, _unb64(mac)):
                raise _bad_state()
            data = json.loads(_unb64(payload))
            st = LoginState(str(data["s"]), str(data["n"]), str(data["v"]), int(data["t"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise _bad_state() from exc
        if not 0 <= now - st.issued_at <= STATE_MAX_AGE:
            raise _bad_state()
        return st

    # --- the flow --------------------------------------------------------------------

    def begin(self) -> tuple[str, str]:
        """(URL to send the browser to, value of the state cookie)."""
        if not self.cfg.enabled:
            raise sso_disabled()
        meta = self.metadata()
        st = LoginState(
            generate_token(32), generate_token(32), generate_token(64), int(time.time())
        )
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
        return url, self._sign(st)

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
            raise _error(
                "sso_provider_unreachable",
                502,
                "无法访问统一身份认证服务",
                "the identity provider cannot be reached",
            ) from exc
        if r.status_code != 200 or not isinstance(data, dict) or "id_token" not in data:
            raise _error(
                "sso_code_rejected",
                401,
                "身份提供方拒绝了登录凭据，请重新登录",
                "the identity provider rejected the sign-in code; please start again",
            )
        return data

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
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

    def finish(
        self,
        *,
        cookie: str | None,
        code: str | None,
        state: str | None,
        error: str | None = None,
        ip: str = "",
        user_agent: str = "",
    ) -> tuple[str, User]:
        """Complete the callback; returns (Dangan session token, user) or raises SsoError."""
        if not self.cfg.enabled:
            raise sso_disabled()
        sub: str | None = None
        try:
            if error:
                raise _error(
                    "sso_provider_error",
                    400,
                    "统一身份认证未完成（身份提供方返回错误）",
                    f"single sign-on did not complete: the provider answered {error[:60]!r}",
                )
            st = self._unsign(cookie, int(time.time()))
            if not state or not code or not hmac.compare_digest(st.state, state):
                raise _bad_state()
            tokens = self._exchange(code, st.verifier)
            claims = self.verify_id_token(str(tokens["id_token"]), st.nonce)
            sub = str(claims["sub"])
            user_id = self._user_for(sub, claims)
        except SsoError as exc:
            self._log_failure(sub, exc.code, ip, user_agent)
            raise
        idle = timedelta(minutes=self.c.settings.session.idle_minutes)
        absolute = timedelta(hours=self.c.settings.session.absolute_hours)
        return services.start_session(
            self.c,
            user_id,
            ip=ip,
            user_agent=user_agent,
            method="oidc",
            idle_timeout=idle,
            absolute_timeout=absolute,
        )

    def _log_failure(self, sub: str | None, reason: str, ip: str, user_agent: str) -> None:
        at = utcnow()
        with self.c.sessions.begin() as s:
            services._log(
                self.c,
                s,
                "auth.sign_in",
                f"sso:{sub[:200]}" if sub else "sso:unknown",
                at,
                "failure",
                reason=reason,
                method="oidc",
                ip=ip,
                user_agent=user_agent[:300],
            )

    # --- subjects and accounts ---------------------------------------------------------

    def _user_for(self, sub: str, claims: dict[str, Any]) -> int:
        with self.c.sessions() as s:
            found = s.scalar(select(User.id).where(User.oidc_subject == sub))
        if found is not None:
            return found
        if not self.cfg.auto_provision:
            raise _error(
                "sso_unknown_user",
                403,
                "该统一身份认证账户未关联档案系统用户，请联系系统管理员",
                "this single sign-on account is not linked to a Dangan user; "
                "ask the system administrator",
            )
        try:
            return self._provision(sub, claims)
        except IntegrityError:
            # A parallel callback for the same subject created it first.
            with self.c.sessions() as s:
                again = s.scalar(select(User.id).where(User.oidc_subject == sub))
            if again is None:
                raise
            return again

    def _provision(self, sub: str, claims: dict[str, Any]) -> int:
        at = utcnow()
        with self.c.sessions.begin() as s:
            dept_id: int | None = None
            if self.cfg.default_department_code:
                dept_id = s.scalar(
                    select(Department.id).where(
                        Department.fonds_code == self.c.settings.default_fonds,
                        Department.code == self.cfg.default_department_code,
                    )
                )
                if dept_id is None:
                    raise ConfigurationError(
                        code="sso_no_department",
                        zh=f"统一身份认证默认部门 {self.cfg.default_department_code} 不存在",
                        en=f"the SSO default department {self.cfg.default_department_code} "
                        "does not exist",
                    )
            username = _free_username(s, sub, claims)
            display = str(claims.get("name") or username).strip()[:100] or username
            user = services._new_user(
                s,
                username=username,
                display_name=display,
                password=None,
                department_id=dept_id,
                oidc_subject=sub,
                at=at,
            )
            s.add(RoleAssignment(user_id=user.id, role=STAFF, assigned_by=None, assigned_at=at))
            services._log(
                self.c,
                s,
                "access.user_created",
                "system:oidc",
                at,
                "success",
                f"user:{user.id}",
                username=username,
                role=STAFF,
                department_id=dept_id,
                oidc_subject=sub,
            )
            return user.id


def _free_username(s: Session, sub: str, claims: dict[str, Any]) -> str:
    """preferred_username or email when valid and free, else one derived from `sub`."""
    fallback = "sso-" + hashlib.sha256(sub.encode()).hexdigest()[:16]
    for candidate in (claims.get("preferred_username"), claims.get("email"), fallback):
        if (
            isinstance(candidate, str)
            and services.USERNAME.match(candidate)
            and s.scalar(select(User.id).where(User.username == candidate)) is None
        ):
            return candidate
    return f"{fallback}-{secrets.token_hex(3)}"
