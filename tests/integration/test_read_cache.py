"""The read API's Redis cache: one entry per key, served only under the generations it was built."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from projections.catalog import cache_keys
from projections.catalog.models import ProductView
from read_api.caching import cached, product_detail

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def projected_product() -> ProductView:
    now = datetime.now(UTC)
    return ProductView.objects.create(
        id=uuid.uuid4(),
        name="Enamel jug",
        description="",
        price=Decimal("18.00"),
        stock=4,
        created_at=now,
        updated_at=now,
        version=1,
    )


def test_a_cached_product_is_served_until_the_projector_moves_its_generation(
    projected_product: ProductView,
) -> None:
    # given: the detail served once, so cached
    product_id = projected_product.id
    first, first_tag = product_detail(product_id)
    ProductView.objects.filter(id=product_id).update(name="Enamel pitcher", version=2)
    # when: read again before and after the bump that follows the projector's commit
    before_bump, before_tag = product_detail(product_id)
    cache_keys.bump(cache_keys.product_key(str(product_id)))
    after_bump, after_tag = product_detail(product_id)
    # then
    assert first is not None
    assert before_bump is not None
    assert after_bump is not None
    names = [json.loads(body)["name"] for body in (first, before_bump, after_bump)]
    assert names == [
        "Enamel jug",
        "Enamel jug",
        "Enamel pitcher",
    ]
    assert before_tag == first_tag != after_tag


def test_a_category_tree_bump_also_refreshes_product_details(
    projected_product: ProductView,
) -> None:
    # given
    product_id = projected_product.id
    product_detail(product_id)
    ProductView.objects.filter(id=product_id).update(name="Enamel carafe", version=2)
    # when
    cache_keys.bump(cache_keys.CATEGORY_TREE)
    body, _ = product_detail(product_id)
    # then
    assert body is not None
    assert json.loads(body)["name"] == "Enamel carafe"


def test_an_entry_built_while_its_generation_moved_is_never_served() -> None:
    # given: a reader that builds "old" while the projector commits and bumps, and a
    # second reader that stores "new" under the new generation meanwhile; the first
    # reader stores its "old" last, over the newer entry
    key, generation = f"test:{uuid.uuid4()}", f"gen:test:{uuid.uuid4()}"

    def slow_build() -> str:
        cache_keys.bump(generation)
        assert cached(key, [generation], lambda: "new") == "new"
        return "old"

    assert cached(key, [generation], slow_build) == "old"
    # when: the next reader comes
    served = cached(key, [generation], lambda: "rebuilt")
    # then: it did not get the entry built under the old generation
    assert served == "rebuilt"
    assert cached(key, [generation], lambda: "unused") == "rebuilt"


def test_a_fresh_read_builds_past_a_current_entry_and_stores_what_it_built() -> None:
    # given
    key, generation = f"test:{uuid.uuid4()}", f"gen:test:{uuid.uuid4()}"
    cached(key, [generation], lambda: "cached")
    # when
    fresh = cached(key, [generation], lambda: "fresh", fresh=True)
    # then
    assert fresh == "fresh"
    assert cached(key, [generation], lambda: "unused") == "fresh"
