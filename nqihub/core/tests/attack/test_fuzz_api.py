"""API fuzzing: schemathesis makes requests for every operation of the committed OpenAPI
schema (valid and invalid ones), sends them to a running server (gunicorn on loopback) with
the API token of an enterprise, an institution and a regulator, and fails on any server error
(5xx) or an answer that breaks the schema: a status the operation does not document, another
content type, or a body not of the documented shape.

Bounded: ``NQI_ATTACK_FUZZ_EXAMPLES`` examples per operation and identity (default 4) and
``NQI_ATTACK_FUZZ_SECONDS`` for one identity's whole run (default 30), shared fairly among
the operations not yet run. CI runs more of both (``.ci/run``).
"""

from __future__ import annotations

import os
import time

import pytest

from nqihub.testing.site import BASE_DIR, env_int, require

# django_db: the autouse fixtures of conftest.py clear the cache, which may be the database
pytestmark = [pytest.mark.attack, pytest.mark.django_db]

SCHEMA = BASE_DIR / "schema" / "openapi.yaml"

# Operations that end the caller's own access (its token, its membership) run last, so a
# generated request that happens to hit the caller's own id cannot blind the rest of the run.
LAST = ("/api/v1/tokens/{id}/revoke/", "/api/v1/memberships/{id}/revoke/")


def _operations(schema):
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: (op.path in LAST, op.path, op.method))


def _fuzz(operation, base_url, headers, checks, examples, until) -> tuple[list[str], int]:
    """Up to ``examples`` requests to one operation (valid and invalid ones) until the time
    ``until``; returns the failures (at most three) and how many requests were sent."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    strategy = operation.as_strategy(schemathesis.GenerationMode.POSITIVE) | operation.as_strategy(
        schemathesis.GenerationMode.NEGATIVE
    )
    failures: list[str] = []
    sent = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        nonlocal sent
        # Every operation gets at least one request, however slow the machine.
        if (sent and time.monotonic() > until) or len(failures) >= 3:
            return
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=60)
            sent += 1
            if "x-request-id" not in response.headers:  # names in lower case here
                # Answered by gunicorn before the application saw the request (414 for a
                # request line over 4 KB, 431 for a header too large): the schema describes the
                # application's answers, so of these only a server error is a failure.
                assert response.status_code < 500, (
                    f"{response.status_code} from the HTTP server: {response.text[:500]}\n{case.as_curl_command()}"
                )
                return
            case.validate_response(response, checks=checks, headers=headers)
        # Every failure of every operation is reported together (several failed checks of
        # one answer come as a group, which is a BaseExceptionGroup).
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])

    run()
    return failures, sent


@pytest.mark.parametrize("identity", ["enterprise", "institution", "regulator"])
def test_no_server_error_and_no_answer_outside_the_schema(site, identity):
    require("schemathesis")
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    # Several server processes answer, and the rate limits are not what is tested here.
    site.start_web(env={"NQI_VERIFY_RATE_PER_MINUTE": "0"})
    schema = schemathesis.openapi.from_path(str(SCHEMA))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    examples = env_int("NQI_ATTACK_FUZZ_EXAMPLES", 4)
    budget = env_int("NQI_ATTACK_FUZZ_SECONDS", 30)
    headers = site.headers(f"fuzz-{identity}")
    operations = _operations(schema)
    only = os.environ.get("NQI_ATTACK_FUZZ_ONLY", "")  # a part of the paths to fuzz, when looking into one
    if only:
        operations = [op for op in operations if only in op.path]
    assert only or len(operations) > 50, "the committed schema lists the API's operations"

    failures: list[str] = []
    sent = 0
    start = time.monotonic()
    for index, operation in enumerate(operations):
        left = max(budget - (time.monotonic() - start), 1.0)
        until = time.monotonic() + left / (len(operations) - index)
        found, count = _fuzz(operation, site.base_url, headers, checks, examples, until)
        failures.extend(found)
        sent += count

    assert sent >= len(operations), f"only {sent} requests were sent"
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures) + "\n\n" + site.log_text()[-8000:]
