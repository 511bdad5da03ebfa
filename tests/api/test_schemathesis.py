"""Property-based tests of the whole HTTP API against its own OpenAPI document (schemathesis).

Every operation the app describes gets up to 25 generated requests (valid ones, then ones that
break the schema), sent in-process to `create_app` on a fresh SQLite instance, with:

- a system token (scopes submit + read_catalogue) on the business-system operations;
- a signed-in archivist's session token on the operations for people, once they exist
  (an operation is for people when it does not declare the system-token scheme).

Checks: no 5xx, documented status codes, documented content types, response bodies and
headers as described, and every error an RFC 9457 problem+json in zh-CN and en.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dangan.adapters.http import ApiOptions
from dangan.adapters.problems import PROBLEM_JSON
from dangan.bootstrap import Container
from dangan.web.app import create_app
from tests.archive_kit import new_instance
from tests.people_kit import admins, department, issue_token, person, sign_in_token

PASSWORD = "Archive-2024!"
ARCHIVIST = "archivist1"
MAX_EXAMPLES = 25
SYSTEM_SCHEME_MARK = "dgn_"  # the system-token scheme's description names the token form

pytestmark = [
    # Starlette's TestClient (behind schemathesis' ASGI transport) warns about plain httpx.
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]


@dataclass
class Credentials:
    system_token: str
    system_schemes: frozenset[str]
    instance: Container
    has_archivist: bool

    def is_for_people(self, operation: Any) -> bool:
        """Under /api/ and not declaring the system-token scheme: for a signed-in person."""
        definition = operation.definition.raw
        schemes = {name for req in definition.get("security", []) for name in req}
        return operation.path.startswith("/api/") and not (schemes & self.system_schemes)

    def session(self) -> str:
        return sign_in_token(self.instance, ARCHIVIST, PASSWORD)

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def _make_archivist(c: Container) -> bool:
    """An archivist of the 办公室; False if the access layer cannot do that yet."""
    try:
        admin = admins(c, PASSWORD)
        person(
            c,
            admin["sysadmin"],
            admin["security_admin"],
            ARCHIVIST,
            department=department(c, admin["sysadmin"], "BGS", "办公室"),
            role="archivist",
            clearance="秘密",
            password=PASSWORD,
            display_name="档案员甲",
        )
    except (AttributeError, TypeError) as exc:  # an access API this test predates
        warnings.warn(f"no archivist for schemathesis: {exc}", stacklevel=1)
        return False
    return True


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    root = tmp_path_factory.mktemp("schemathesis")
    c = new_instance(root / "inst", f"sqlite:///{root / 'dangan.db'}")
    yield c
    c.close()


@pytest.fixture(scope="module")
def app(instance: Container) -> Iterator[Any]:
    application = create_app(instance, ApiOptions(callback_attempts=1))
    yield application
    application.state.runtime.close()


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, modes=["positive", "negative"]
    )
    return schema


@pytest.fixture(scope="module")
def credentials(instance: Container, api_schema: Any) -> Credentials:
    token, _ = issue_token(instance, "oa", ["submit", "read_catalogue"], rate=0)
    raw = api_schema.raw_schema
    schemes = raw.get("components", {}).get("securitySchemes", {})
    system = frozenset(
        name for name, s in schemes.items() if SYSTEM_SCHEME_MARK in s.get("description", "")
    )
    return Credentials(token, system, instance, _make_archivist(instance))


def problem_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx is application/problem+json with the fields docs/api.md promises."""
    if response.status_code < 400:
        return None
    media = response.headers.get("content-type", [""])
    media = (media[0] if isinstance(media, list) else media).split(";")[0].strip()
    assert media == PROBLEM_JSON, f"error answered as {media!r}, not {PROBLEM_JSON}"
    body = response.json()
    missing = {"type", "title", "status", "detail", "code", "zh", "en", "problems"} - set(body)
    assert not missing, f"problem document lacks {sorted(missing)}: {body}"
    assert body["status"] == response.status_code, body
    assert body["type"] == f"urn:dangan:problem:{body['code']}", body
    assert isinstance(body["problems"], list), body
    for p in body["problems"]:
        assert {"field", "code", "zh", "en"} <= set(p), p
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    problem_json,
]


def _fuzz(operation: Any, mode: GenerationMode, credentials: Credentials) -> None:
    person = credentials.has_archivist and credentials.is_for_people(operation)
    shared = credentials.session() if person else credentials.system_token
    # Signing out ends the session it is sent with: those cases each get their own.
    fresh = person and operation.path.endswith("/sign-out")

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        token = credentials.session() if fresh else shared
        case.call_and_validate(headers=credentials.headers(token), checks=CHECKS)

    run()


# `schema.parametrize()` with `schemathesis.pytest.from_fixture` breaks on pytest 9
# ("'Function' object has no attribute '_nodeid'"), and a module-level schema would need an
# instance at import; so each operation is driven here with `as_strategy` + hypothesis.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(
    api_schema: Any, credentials: Credentials, mode: GenerationMode
) -> None:
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, mode, credentials)
        except Unsatisfiable:  # nothing to negate: no parameters, no body
            continue
        except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a BaseExceptionGroup
            failures.append(f"{operation.label} [{mode}]:\n{exc}")
    assert not failures, "\n\n".join(failures)


def test_every_operation_is_exercised(api_schema: Any) -> None:
    """A guard: the schema the fuzzing above runs on is the app's, and not empty."""
    paths = set(api_schema.raw_schema["paths"])
    assert {"/health", "/api/v1/submissions", "/api/v1/submissions/{record_id}"} <= paths


def test_archivist_can_be_signed_in(credentials: Credentials) -> None:
    """Operations for people are only fuzzed meaningfully with a session to use."""
    assert credentials.has_archivist
    assert credentials.session()
