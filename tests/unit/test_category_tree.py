from uuid import uuid4

import pytest

from tests.support.shop_data import CONTEXT, add_category
from write_api.application import Shop
from write_api.domain.errors import NotFound, ValidationFailed


def test_categories_nest_to_any_depth(shop: Shop) -> None:
    # when
    home = add_category(shop, "Home")
    kitchen = add_category(shop, "Kitchen", home)
    mugs = add_category(shop, "Mugs", kitchen)
    # then
    tree = shop.category_tree()
    assert tree.ancestors(mugs) == [mugs, kitchen, home]
    assert tree.get(mugs).name == "Mugs"


def test_names_are_unique_among_siblings_only(shop: Shop) -> None:
    # given
    home = add_category(shop, "Home")
    garden = add_category(shop, "Garden")
    add_category(shop, "Tools", home)
    # when
    add_category(shop, "Tools", garden)
    with pytest.raises(ValidationFailed) as refused:
        add_category(shop, "  tools ", home)
    # then
    assert refused.value.details == {"name": ["A sibling category already has this name."]}
    assert len(shop.category_tree().nodes) == 4


def test_a_category_cannot_become_its_own_descendant(shop: Shop) -> None:
    # given
    home = add_category(shop, "Home")
    kitchen = add_category(shop, "Kitchen", home)
    version = shop.category_tree().version
    # when / then
    for new_parent in (home, kitchen):
        with pytest.raises(ValidationFailed) as refused:
            shop.change_category(home, parent_id=new_parent, context=CONTEXT)
        assert list(refused.value.details) == ["parent_id"]
    assert shop.category_tree().version == version


def test_moving_and_renaming_change_the_tree(shop: Shop) -> None:
    # given
    home = add_category(shop, "Home")
    garden = add_category(shop, "Garden")
    tools = add_category(shop, "Tools", home)
    # when
    shop.change_category(tools, name="Garden tools", parent_id=garden, context=CONTEXT)
    # then
    tree = shop.category_tree()
    assert tree.ancestors(tools) == [tools, garden]
    assert tree.get(tools).name == "Garden tools"


def test_moving_into_a_parent_with_a_same_named_child_is_refused(shop: Shop) -> None:
    home = add_category(shop, "Home")
    garden = add_category(shop, "Garden")
    add_category(shop, "Tools", garden)
    tools = add_category(shop, "Tools", home)
    with pytest.raises(ValidationFailed):
        shop.change_category(tools, parent_id=garden, context=CONTEXT)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_category_name_has_1_to_100_characters(shop: Shop, name: str) -> None:
    with pytest.raises(ValidationFailed):
        add_category(shop, name)


def test_unknown_parent_and_unknown_category_are_refused(shop: Shop) -> None:
    with pytest.raises(ValidationFailed):
        add_category(shop, "Orphan", uuid4())
    with pytest.raises(NotFound):
        shop.change_category(uuid4(), name="x", context=CONTEXT)
