"""Property-based: schemathesis generates requests from /api/v1/openapi.json (valid and
invalid bodies, parameters and ids) and the API never answers with a 5xx.

One test per operation of the description. Schemathesis' own pytest integration does not
run on pytest 9 (it reads a node attribute pytest removed), so each test loads the schema
from the app and runs the operation's hypothesis strategy itself. Half of the generated ids
are swapped for ids that exist, so requests get past the 404s to the code behind the
permission checks; every request is sent with a curator's token and with an admin's.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from annotator.openapi import openapi_spec

MAX_EXAMPLES = 30
OPERATIONS = sorted(
    f"{method.upper()} {path}" for path, item in openapi_spec()["paths"].items() for method in item
)


def _operation(app, label: str):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label == label:
            return operation
    raise AssertionError(f"{label} is not in the served description")


def _real_ids(case, world) -> None:
    real = {
        "project_id": world.project.id,
        "passage_id": world.passage.id,
        "document_id": world.passage.document_id,
    }
    for name, value in list((case.path_parameters or {}).items()):
        if name in real and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = real[name]


@pytest.mark.slow
@pytest.mark.parametrize("label", OPERATIONS)
def test_api_never_answers_5xx(app, api_world, label):
    operation = _operation(app, label)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    def run(case) -> None:
        _real_ids(case, api_world)
        for role in ("curator", "admin"):
            response = case.call(headers=api_world.headers[role])
            assert response.status_code < 500, (
                case.method,
                case.formatted_path,
                response.text[:300],
            )
            if response.headers.get("Content-Type", "").startswith("application/json"):
                assert response.json() is not None

    run()
