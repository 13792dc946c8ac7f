"""The JSON API fuzzed by schemathesis from its own OpenAPI document: no answer is a
server error, every declared answer fits its schema. Bounded by a count of examples per
operation (no clock)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from appveto.web.access import Role
from tests.web.conftest import Server, make_accounts, start

EXAMPLES = 8


def test_no_operation_answers_with_a_server_error_or_off_schema(workspace: Any) -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    with start(workspace) as client:
        s = Server(workspace, client)
        make_accounts(s, {"everyone": set(Role)})
        headers = s.api("everyone")
        schema = schemathesis.openapi.from_asgi("/api/openapi.json", client.app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        calls = 0

        for op in operations:

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=op.as_strategy())
            def run(case: Any) -> None:
                nonlocal calls
                response = case.call(headers=headers)
                calls += 1
                assert response.status_code < 500, (case.method, case.formatted_path, response.text)
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

            run()
        assert calls >= len(operations)
