"""The OpenAPI documents of both APIs and both versions: valid, warning-free, fully typed."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

DOCUMENTS = [
    ("infra.urls.write_api", "v1"),
    ("infra.urls.write_api", "v2"),
    ("infra.urls.read_api", "v1"),
    ("infra.urls.read_api", "v2"),
]
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


def generate(urlconf: str, version: str) -> tuple[dict[str, Any], list[str]]:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator(urlconf=urlconf, api_version=version).get_schema(public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, problems


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


def json_schema(response_or_body: dict[str, Any]) -> dict[str, Any] | None:
    return response_or_body.get("content", {}).get("application/json", {}).get("schema")


@pytest.mark.parametrize(("urlconf", "version"), DOCUMENTS)
def test_the_schema_is_valid_openapi_without_a_warning(urlconf: str, version: str) -> None:
    # when
    schema, problems = generate(urlconf, version)
    # then
    assert problems == []
    validate_schema(schema)


@pytest.mark.parametrize(("urlconf", "version"), DOCUMENTS)
def test_every_body_and_answer_is_a_named_component_and_errors_are_the_envelope(
    urlconf: str, version: str
) -> None:
    # given
    schema, _ = generate(urlconf, version)
    untyped, not_envelope, no_error = [], [], []
    # when
    for method, path, operation in operations(schema):
        body = operation.get("requestBody")
        if body is not None and "$ref" not in json_schema(body):  # type: ignore[operator]
            untyped.append(f"{method} {path} request")
        for status, response in operation["responses"].items():
            content = json_schema(response)
            if int(status) >= 400 and content != ENVELOPE:
                not_envelope.append(f"{method} {path} {status}")
            elif not _typed(status, content, response):
                untyped.append(f"{method} {path} {status}")
        if path.startswith("/api/") and "503" not in operation["responses"]:
            no_error.append(f"{method} {path}")
    # then
    assert (untyped, not_envelope, no_error) == ([], [], [])


def _typed(status: str, content: dict[str, Any] | None, response: dict[str, Any]) -> bool:
    """A body names a component (or a list of one); only 204, 205 and 304 have none.

    The one text answer, /metrics, is Prometheus's exposition format (a string); the event
    export is a download (binary NDJSON or CSV).
    """
    if content is None:
        media = response.get("content", {})
        text = media.get("text/plain", {}).get("schema")
        downloads = [media.get(m, {}).get("schema") for m in ("application/x-ndjson", "text/csv")]
        binary = {"type": "string", "format": "binary"}
        return status in {"204", "205", "304"} or text == {"type": "string"} or binary in downloads
    return "$ref" in content or "$ref" in content.get("items", {})


def test_request_bodies_refuse_unknown_fields_as_the_views_do() -> None:
    # when
    schema, _ = generate("infra.urls.write_api", "v1")
    components = schema["components"]["schemas"]
    # then
    assert components["ProductCreateRequest"]["additionalProperties"] is False
    assert components["SignupRequest"]["required"] == ["email", "password"]
    assert components["SignupRequest"]["properties"]["role"] == {
        "allOf": [{"$ref": "#/components/schemas/SelfServiceRoleEnum"}],
        "default": "customer",
    }


def test_operations_document_the_refusals_they_can_give() -> None:
    # when
    schema, _ = generate("infra.urls.write_api", "v1")
    paths = schema["paths"]
    # then
    assert sorted(paths["/api/v1/orders/{order_id}/pay"]["post"]["responses"]) == [
        "200",
        "202",
        "400",
        "401",
        "402",
        "403",
        "404",
        "409",
        "413",
        "415",
        "422",
        "503",
    ]
    assert sorted(paths["/api/v1/auth/signup"]["post"]["responses"]) == [
        "201",
        "400",
        "413",
        "415",
        "429",
        "503",
    ]


def test_v2_only_queries_are_documented_in_v2_only() -> None:
    # when
    v1, _ = generate("infra.urls.read_api", "v1")
    v2, _ = generate("infra.urls.read_api", "v2")
    v2_only = {"/products/search", "/products/suggest", "/events", "/events/export"}
    # then
    assert {p for p in v1["paths"] if p.removeprefix("/api/v1") in v2_only} == set()
    assert {p for p in v2["paths"] if p.removeprefix("/api/v2") in v2_only} == {
        f"/api/v2{p}" for p in v2_only
    }
    as_of = [p["name"] for p in v2["paths"]["/api/v2/orders/{order_id}"]["get"]["parameters"]]
    assert "as_of" in as_of


def test_product_time_travel_is_documented_in_v2_only() -> None:
    # when
    v1, _ = generate("infra.urls.read_api", "v1")
    v2, _ = generate("infra.urls.read_api", "v2")
    detail = "/products/{product_id}"

    def parameters(schema: dict[str, Any], version: str) -> list[str]:
        return [p["name"] for p in schema["paths"][f"/api/{version}{detail}"]["get"]["parameters"]]

    # then
    assert f"/api/v1{detail}/history" not in v1["paths"]
    history = v2["paths"][f"/api/v2{detail}/history"]["get"]
    assert {"page", "page_size", "cursor"} <= {p["name"] for p in history["parameters"]}
    assert set(history["responses"]) >= {"200", "401", "403", "404"}
    assert "as_of" not in parameters(v1, "v1")
    assert "as_of" in parameters(v2, "v2")
    change = v2["components"]["schemas"]["FieldChange"]
    assert set(change["properties"]) == {"from", "to"}
