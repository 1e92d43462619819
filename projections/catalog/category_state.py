"""Pure fold of CategoryTree envelopes, and the materialized paths derived from it (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from contracts import event_types as events
from contracts import payloads

Tree = dict[str, dict[str, Any]]  # category id -> {"name", "parent_id"}


@dataclass(frozen=True)
class CategoryPath:
    """A category's place in the tree: ids and names from the root down to itself."""

    ids: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def text(self) -> str:
        return "/".join(self.names)


def evolve_tree(tree: Tree, envelope: dict[str, Any]) -> Tree:
    """The tree after `envelope`; the Created event starts it empty."""
    data, kind = envelope["data"], envelope["type"]
    tree = dict(tree)
    if kind == events.CATEGORY_TREE_CATEGORY_ADDED:
        added = cast(payloads.CategoryAdded, data)
        tree[added["category_id"]] = {"name": added["name"], "parent_id": added["parent_id"]}
    elif kind == events.CATEGORY_TREE_CATEGORY_RENAMED:
        renamed = cast(payloads.CategoryRenamed, data)
        tree[renamed["category_id"]] = {**tree[renamed["category_id"]], "name": renamed["name"]}
    elif kind == events.CATEGORY_TREE_CATEGORY_MOVED:
        moved = cast(payloads.CategoryMoved, data)
        category = moved["category_id"]
        tree[category] = {**tree[category], "parent_id": moved["parent_id"]}
    return tree


def category_paths(tree: Tree) -> dict[str, CategoryPath]:
    """The materialized path of every category."""
    paths: dict[str, CategoryPath] = {}

    def path_of(category_id: str) -> CategoryPath:
        if category_id not in paths:
            node = tree[category_id]
            parent = path_of(node["parent_id"]) if node["parent_id"] else CategoryPath((), ())
            paths[category_id] = CategoryPath(
                (*parent.ids, category_id), (*parent.names, node["name"])
            )
        return paths[category_id]

    for category_id in tree:
        path_of(category_id)
    return paths
