"""The API through its own OpenAPI schema (drf-spectacular): every path and method it lists
answers, for its user's token, one of the statuses it documents, with the documented fields; 401
without a token; 404 for another user's template or job. A path added without its documentation
fails here."""

import json

import pytest

from records.copy_templates import services
from records.models import CopyJob
from tests.fixtures.api import bearer
from tests.fixtures.engine import copy_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(neurolax, owner, make_job, make_token, other_user):
    sb, profile, conn, src = neurolax
    template = services.save_from_request(
        request=copy_request(profile, "product__v", [src], "clone"), name="Product", user=owner
    )
    job = make_job(status=CopyJob.Status.SUCCEEDED, results=3, profile=profile)
    return {
        "template": template,
        "job": job,
        "body": {"ids": [src], "preview": True},
        "mine": make_token()[1],
        "theirs": make_token(user=other_user)[1],
    }


def schema(client, secret):
    response = client.get("/api/v1/schema/?format=json", **bearer(secret))
    assert response.status_code == 200
    return json.loads(response.content)


def operations(doc):
    for path, methods in sorted(doc["paths"].items()):
        for method, operation in sorted(methods.items()):
            yield path, method, operation


def call(client, world, path, method, secret, operation):
    code = world["template"].code if path.startswith("/api/v1/templates/") else world["job"].code
    url = path.replace("{code}", str(code))
    headers = bearer(secret) if secret else {}
    if method == "get":
        return client.get(url, **headers)
    body = json.dumps(world["body"]) if "requestBody" in operation else ""
    return client.generic(method.upper(), url, body, content_type="application/json", **headers)


def required_fields(doc, response_doc):
    """The required properties of a documented JSON answer (its component's)."""
    shown = response_doc.get("content", {}).get("application/json", {}).get("schema", {})
    ref = shown.get("$ref") or shown.get("items", {}).get("$ref")
    if not ref:
        return set()
    return set(doc["components"]["schemas"][ref.rsplit("/", 1)[-1]].get("required", []))


def test_every_path_answers_a_documented_status_with_the_documented_fields(client, world):
    doc = schema(client, world["mine"])
    assert len(list(operations(doc))) == 7
    wrong, got = [], {}
    for path, method, operation in operations(doc):
        response = call(client, world, path, method, world["mine"], operation)
        documented = operation["responses"]
        status = got[path.removeprefix("/api/v1/")] = str(response.status_code)
        if status not in documented:
            wrong.append(f"{method} {path}: {status}, documented {sorted(documented)}")
            continue
        data = response.json()
        first = data[0] if isinstance(data, list) and data else data
        missing = required_fields(doc, documented[status]) - set(first)
        if missing:
            wrong.append(f"{method} {path}: {status} without {sorted(missing)}")
    assert not wrong, "\n".join(wrong)
    # In path order: a finished job isn't cancelled, its failed row is resumed, a queued job isn't undone.
    assert got == {
        "jobs/{code}/": "200",
        "jobs/{code}/cancel/": "409",
        "jobs/{code}/results/": "200",
        "jobs/{code}/resume/": "200",
        "jobs/{code}/undo/": "409",
        "templates/": "200",
        "templates/{code}/run/": "200",
    }


def test_every_path_is_401_without_a_token_and_404_for_another_users_objects(client, world):
    doc = schema(client, world["mine"])
    wrong = []
    for path, method, operation in operations(doc):
        got = call(client, world, path, method, None, operation).status_code
        if got != 401 or "401" not in operation["responses"]:
            wrong.append(f"{method} {path} without a token: {got}")
        if "{code}" in path:
            got = call(client, world, path, method, world["theirs"], operation).status_code
            if got != 404 or "404" not in operation["responses"]:
                wrong.append(f"{method} {path} with another user's token: {got}")
    assert not wrong, "\n".join(wrong)
    assert client.get("/api/v1/schema/").status_code == 401
    world["job"].refresh_from_db()
    assert world["job"].status == CopyJob.Status.SUCCEEDED and not world["job"].undo_job_id


def test_the_schema_documents_the_bearer_token(client, world):
    doc = schema(client, world["mine"])
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from My settings.",
    }
    run = doc["paths"]["/api/v1/templates/{code}/run/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in run["parameters"]]
    assert {"200", "201", "401", "403", "404", "409"} <= set(run["responses"])
