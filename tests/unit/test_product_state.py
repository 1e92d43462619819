import pytest

from projections.catalog.product_state import evolve, search_document

CREATED = {
    "aggregate_id": "p1",
    "type": "ProductCreated",
    "version": 1,
    "occurred_at": "2026-01-01T00:00:00+00:00",
    "data": {
        "name": "Lamp",
        "description": "Bright",
        "price": "19.90",
        "category_id": None,
        "seller_id": "s1",
        "stock": 4,
    },
}


def test_evolve_builds_the_state_from_product_created() -> None:
    # when
    state = evolve(None, CREATED)
    # then
    assert state == {
        "id": "p1",
        "name": "Lamp",
        "description": "Bright",
        "price": "19.90",
        "category_id": None,
        "seller_id": "s1",
        "stock": 4,
        "reserved": 0,
        "discontinued": False,
        "rating_average": None,
        "rating_count": 0,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "version": 1,
    }


def test_evolve_moves_only_the_version_for_an_event_type_it_does_not_know() -> None:
    # given
    state = evolve(None, CREATED)
    later = {
        **CREATED,
        "type": "ProductSomethingNew",
        "version": 2,
        "occurred_at": "2026-01-02T00:00:00+00:00",
        "data": {},
    }
    # when
    moved = evolve(state, later)
    # then
    assert moved == {**state, "version": 2, "updated_at": "2026-01-02T00:00:00+00:00"}


def test_evolve_refuses_a_change_before_the_product_exists() -> None:
    with pytest.raises(ValueError, match="before ProductCreated"):
        evolve(None, {**CREATED, "type": "ProductRenamed", "version": 2})


def test_search_document_carries_stock_available_and_a_numeric_price() -> None:
    # given
    state = {**evolve(None, CREATED), "reserved": 1}  # type: ignore[dict-item]
    # when
    document = search_document(state)
    # then
    assert document["stock_available"] == 3
    assert (document["price"], document["price_text"]) == (19.9, "19.90")
    assert document["version"] == 1


def test_reservations_and_sales_move_reserved_and_stock() -> None:
    # given
    state = evolve(None, {**CREATED, "data": {**CREATED["data"], "stock": 10}})

    def step(kind: str, version: int, quantity: int) -> dict:
        return {**CREATED, "type": kind, "version": version, "data": {"quantity": quantity}}

    # when
    state = evolve(state, step("ProductReserved", 2, 3))
    state = evolve(state, step("ProductReserved", 3, 2))
    state = evolve(state, step("ProductReservationReleased", 4, 2))
    state = evolve(state, step("ProductSold", 5, 3))
    # then
    assert state is not None
    assert (state["stock"], state["reserved"], state["version"]) == (7, 0, 5)


def test_suggestions_complete_from_any_word_and_stop_for_discontinued_products() -> None:
    state = evolve(None, {**CREATED, "data": {**CREATED["data"], "name": "Walnut desk lamp"}})
    assert state is not None
    assert search_document(state)["suggest"] == {"input": ["Walnut desk lamp", "desk lamp", "lamp"]}
    assert search_document({**state, "discontinued": True})["suggest"] == {"input": []}
