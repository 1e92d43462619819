from decimal import Decimal
from uuid import UUID

from read_api.search import ProductQuery, search_body

CATEGORY = UUID("00000000-0000-0000-0000-00000000000c")
SELLER = UUID("00000000-0000-0000-0000-000000000005")


def test_every_filter_becomes_a_non_scoring_clause() -> None:
    # given
    query = ProductQuery(
        text="mug",
        category=CATEGORY,
        min_price=Decimal("5"),
        max_price=Decimal("20.50"),
        in_stock=True,
        seller=SELLER,
        min_rating=Decimal("3.5"),
        ordering="price",
    )
    # when
    body = search_body(query)
    # then
    assert body["query"]["bool"]["filter"] == [
        {"term": {"discontinued": False}},
        {"term": {"category_path": str(CATEGORY)}},
        {"range": {"price": {"gte": 5.0, "lte": 20.5}}},
        {"range": {"stock_available": {"gt": 0}}},
        {"term": {"seller_id": str(SELLER)}},
        {"range": {"rating_average": {"gte": 3.5}}},
    ]
    assert body["sort"] == [{"price": "asc"}, {"id": "asc"}]


def test_text_is_matched_not_parsed_and_ranks_name_above_description() -> None:
    body = search_body(ProductQuery(text='mug" OR (x:*'))
    assert body["query"]["bool"]["must"] == [
        {
            "multi_match": {
                "query": 'mug" OR (x:*',
                "fields": ["name^3", "description", "category_names^2"],
            }
        }
    ]
    assert body["sort"][0] == "_score"


def test_without_text_newest_come_first_and_rating_order_puts_unrated_last() -> None:
    assert search_body(ProductQuery())["sort"] == [{"created_at": "desc"}, {"id": "asc"}]
    assert search_body(ProductQuery(ordering="-rating"))["sort"][0] == {
        "rating_average": {"order": "desc", "missing": "_last"}
    }
