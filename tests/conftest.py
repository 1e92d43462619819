"""Fixtures shared by every test layer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings

from write_api import application
from write_api.application import Shop


@pytest.fixture(scope="session")
def namespace() -> str:
    """A prefix no other run uses, so tests can share servers without seeing each other."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def shop_app(django_db_setup: None, django_db_blocker: object) -> Iterator[Shop]:
    """The event store in the test database, with its tables created."""
    application.shop.cache_clear()
    application.create_event_store_tables().close()
    yield application.shop()
    application.shop().close()
    application.shop.cache_clear()


@pytest.fixture
def isolated_namespace(namespace: str, settings: object) -> str:
    """Point topics, consumer groups and the search alias at this test's own names."""
    name = f"{namespace}{uuid.uuid4().hex[:6]}"
    settings.SHOPSTREAM_NAMESPACE = name  # type: ignore[attr-defined]
    settings.TOPIC_PREFIX = f"{name}."  # type: ignore[attr-defined]
    return name


def pytest_report_header() -> list[str]:
    return [
        "database: {HOST}:{PORT}".format(**settings.DATABASES["default"]),
        f"kafka: {settings.KAFKA_BOOTSTRAP_SERVERS}  opensearch: {settings.OPENSEARCH_URL}",
        f"redis: {settings.REDIS_URL}",
    ]
