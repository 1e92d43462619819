"""Start-up preparation: a fresh broker and search server are refilled from the event store."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from adapters.clients import kafka_admin, opensearch_client
from projections.catalog.search_index import MAPPINGS, SearchIndex
from projections.models import RelayCheckpoint
from projections.topics import pipeline_topics
from tests.support.shop_data import create_products
from write_api.accounts.models import Role, User
from write_api.application import Shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_prepare_stack_rebuilds_search_and_republishes_when_servers_start_empty(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: events were stored and published before, but broker and index are new
    ids = create_products(shop_app, 3, name="Survivor")
    RelayCheckpoint.objects.create(
        name=f"{settings.TOPIC_PREFIX}relay", position=shop_app.recorder.max_notification_id()
    )
    index = SearchIndex(opensearch_client(), isolated_namespace)
    assert not index.exists()
    # when
    call_command("prepare_stack", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then
    admin = kafka_admin()
    assert set(pipeline_topics(settings.TOPIC_PREFIX)) <= set(admin.list_topics())
    admin.close()
    assert RelayCheckpoint.objects.get(name=f"{settings.TOPIC_PREFIX}relay").position == 0
    index.refresh()
    found = index.client.mget(index=index.alias, body={"ids": [str(i) for i in ids]})
    assert [d["_source"]["name"] for d in found["docs"]] == [f"Survivor {i}" for i in range(3)]


def test_prepare_stack_keeps_the_relay_position_when_the_broker_kept_its_events(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: a prepared stack whose relay has published nothing yet is idempotent
    call_command("prepare_stack", stdout=open("/dev/null", "w"))  # noqa: SIM115
    RelayCheckpoint.objects.update_or_create(
        name=f"{settings.TOPIC_PREFIX}relay", defaults={"position": 0}
    )
    # when: preparing again
    call_command("prepare_stack", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then
    assert RelayCheckpoint.objects.get(name=f"{settings.TOPIC_PREFIX}relay").position == 0
    assert SearchIndex(opensearch_client(), isolated_namespace).exists()


def test_prepare_stack_bootstraps_the_configured_admin_once(
    shop_app: Shop, isolated_namespace: str, settings: object
) -> None:
    # given
    settings.SHOPSTREAM_ADMIN_EMAIL = "Boss@Example.com"  # type: ignore[attr-defined]
    settings.SHOPSTREAM_ADMIN_PASSWORD = "a-long-enough-secret"  # type: ignore[attr-defined]
    # when
    call_command("prepare_stack", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("prepare_stack", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then
    [admin] = User.objects.filter(email="boss@example.com")
    assert (admin.role, admin.is_staff, admin.is_superuser) == (Role.ADMIN, True, True)
    assert admin.check_password("a-long-enough-secret")


def test_prepare_stack_rebuilds_an_index_whose_mapping_lacks_new_fields(
    shop_app: Shop, isolated_namespace: str
) -> None:
    # given: an older generation behind the alias, without the autocomplete field
    index = SearchIndex(opensearch_client(), isolated_namespace)
    old_properties = {k: v for k, v in MAPPINGS["properties"].items() if k != "suggest"}
    index.client.indices.create(
        index=f"{index.alias}_v1", body={"mappings": {**MAPPINGS, "properties": old_properties}}
    )
    index.point_alias_at(f"{index.alias}_v1")
    assert index.is_outdated()
    # when
    call_command("prepare_stack", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then
    assert list(index.client.indices.get_alias(name=index.alias)) == [f"{index.alias}_v2"]
    assert not index.is_outdated()
