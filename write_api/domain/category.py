"""The CategoryTree aggregate: every category and subcategory, kept consistent as one whole.

One aggregate for the whole tree makes sibling-name uniqueness and "never your own
descendant" checks atomic under optimistic concurrency; a shop has hundreds of
categories, not millions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from write_api.domain.errors import NotFound, ValidationFailed, field_error
from write_api.domain.limits import CATEGORY_NAME_MAX, text_errors
from write_api.domain.metadata import CommandContext

TREE_ID = uuid.UUID("0c8a3f8e-5d0e-4d8b-9d0c-2f7a5c1e6b11")


@dataclass(frozen=True)
class Node:
    name: str
    parent_id: UUID | None


class CategoryTree(Aggregate):
    """All categories of the shop; each has at most one parent, names unique among siblings."""

    TOPIC = "shopstream.category_tree"
    # The shape of this class's state in snapshots: raise it whenever an attribute is added,
    # dropped or changes type, so snapshots of the old shape are ignored (write_api/snapshots.py).
    class_version = 1

    @staticmethod
    def create_id(**_: object) -> UUID:
        return TREE_ID

    @event("Created", topic="shopstream.category_tree.Created")
    def __init__(self) -> None:
        self.nodes: dict[UUID, Node] = {}

    def add(self, *, name: str, parent_id: UUID | None, context: CommandContext) -> UUID:
        name = self._check_name(name, parent_id, exclude=None)
        self._check_parent(parent_id)
        category_id = uuid.uuid4()
        self._added(
            category_id=category_id,
            name=name,
            parent_id=parent_id,
            metadata=context.as_event_metadata(),
        )
        return category_id

    @event("CategoryAdded", topic="shopstream.category_tree.CategoryAdded")
    def _added(
        self,
        *,
        category_id: UUID,
        name: str,
        parent_id: UUID | None,
        metadata: dict[str, str | None],
    ) -> None:
        self.nodes[category_id] = Node(name, parent_id)

    def rename(self, *, category_id: UUID, name: str, context: CommandContext) -> None:
        node = self.get(category_id)
        name = self._check_name(name, node.parent_id, exclude=category_id)
        if name != node.name:
            self._renamed(category_id=category_id, name=name, metadata=context.as_event_metadata())

    @event("CategoryRenamed", topic="shopstream.category_tree.CategoryRenamed")
    def _renamed(self, *, category_id: UUID, name: str, metadata: dict[str, str | None]) -> None:
        self.nodes[category_id] = Node(name, self.nodes[category_id].parent_id)

    def move(self, *, category_id: UUID, parent_id: UUID | None, context: CommandContext) -> None:
        node = self.get(category_id)
        self._check_parent(parent_id)
        if parent_id is not None and category_id in self.ancestors(parent_id):
            raise field_error("parent_id", "A category cannot move under itself or its descendant.")
        self._check_name(node.name, parent_id, exclude=category_id)
        if parent_id != node.parent_id:
            self._moved(
                category_id=category_id, parent_id=parent_id, metadata=context.as_event_metadata()
            )

    @event("CategoryMoved", topic="shopstream.category_tree.CategoryMoved")
    def _moved(
        self, *, category_id: UUID, parent_id: UUID | None, metadata: dict[str, str | None]
    ) -> None:
        self.nodes[category_id] = Node(self.nodes[category_id].name, parent_id)

    def get(self, category_id: UUID) -> Node:
        try:
            return self.nodes[category_id]
        except KeyError:
            raise NotFound(f"Category {category_id} does not exist.") from None

    def ancestors(self, category_id: UUID) -> list[UUID]:
        """`category_id` and its ancestors, the category itself first."""
        chain = [category_id]
        while (parent := self.nodes[chain[-1]].parent_id) is not None:
            chain.append(parent)
        return chain

    def _check_parent(self, parent_id: UUID | None) -> None:
        if parent_id is not None and parent_id not in self.nodes:
            raise field_error("parent_id", f"Category {parent_id} does not exist.")

    def _check_name(self, name: str, parent_id: UUID | None, exclude: UUID | None) -> str:
        name = name.strip()
        errors = text_errors(name, min_length=1, max_length=CATEGORY_NAME_MAX)
        if errors:
            raise ValidationFailed("The request is invalid.", {"name": errors})
        taken = {
            n.name.casefold()
            for i, n in self.nodes.items()
            if n.parent_id == parent_id and i != exclude
        }
        if name.casefold() in taken:
            raise ValidationFailed(
                "The request is invalid.",
                {"name": ["A sibling category already has this name."]},
            )
        return name
