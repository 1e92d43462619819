"""The OpenSearch product index behind an alias (`<ns>.products` -> `<ns>.products_vN`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opensearchpy import OpenSearch, helpers

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "name": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
        "description": {"type": "text"},
        "price": {"type": "scaled_float", "scaling_factor": 100},
        "price_text": {"type": "keyword", "index": False},
        "category_id": {"type": "keyword"},
        "category_path": {"type": "keyword"},
        "category_names": {"type": "text"},
        "discontinued": {"type": "boolean"},
        "seller_id": {"type": "keyword"},
        "stock_available": {"type": "integer"},
        "rating_average": {"type": "float"},
        "rating_count": {"type": "integer"},
        "created_at": {"type": "date"},
        "version": {"type": "long"},
        "suggest": {"type": "completion"},
    },
}


def products_alias(namespace: str) -> str:
    return f"{namespace}.products"


class RetryableIndexError(RuntimeError):
    """OpenSearch could not take the write now; the same batch may be tried again."""


class SearchIndex:
    """Versioned writes to, and lifecycle of, the product index."""

    def __init__(self, client: OpenSearch, namespace: str) -> None:
        self.client = client
        self.alias = products_alias(namespace)

    def exists(self) -> bool:
        return bool(self.client.indices.exists_alias(name=self.alias))

    def create_generation(self) -> str:
        """Create the next `<alias>_vN` index (not yet behind the alias) and return its name."""
        existing = self.client.indices.get(index=f"{self.alias}_v*", ignore_unavailable=True)
        numbers = [int(name.rsplit("_v", 1)[1]) for name in existing]
        name = f"{self.alias}_v{max(numbers, default=0) + 1}"
        self.client.indices.create(
            index=name,
            body={
                "settings": {"number_of_shards": 1, "number_of_replicas": 0},
                "mappings": MAPPINGS,
            },
        )
        return name

    def point_alias_at(self, index: str) -> list[str]:
        """Swap the alias to `index` in one atomic action; return the indices it left."""
        current = list(self.client.indices.get_alias(name=self.alias)) if self.exists() else []
        actions: list[dict[str, Any]] = [
            {"remove": {"index": old, "alias": self.alias}} for old in current
        ]
        actions.append({"add": {"index": index, "alias": self.alias}})
        self.client.indices.update_aliases(body={"actions": actions})
        return [old for old in current if old != index]

    def is_outdated(self) -> bool:
        """The live generation lacks a field the documents now carry: it needs a rebuild."""
        mappings = self.client.indices.get_mapping(index=self.alias)
        for mapping in mappings.values():
            fields = set(mapping["mappings"].get("properties", {}))
            if set(MAPPINGS["properties"]) - fields:
                return True
        return False

    def ensure(self) -> bool:
        """Create the first generation behind the alias when there is none; True if created."""
        if self.exists():
            return False
        self.point_alias_at(self.create_generation())
        return True

    def write(
        self,
        documents: Iterable[dict[str, Any]],
        index: str | None = None,
        version_type: str = "external",
    ) -> int:
        """Index documents with external versions: an older (or equal) version is a no-op.

        `external_gte` lets a document be rewritten at the same version, for changes that
        come from elsewhere (a category renamed or moved) rather than from the product.
        """
        actions = [
            {
                "_op_type": "index",
                "_index": index or self.alias,
                "_id": document["id"],
                "version": document["version"],
                "version_type": version_type,
                "_source": document,
            }
            for document in documents
        ]
        if not actions:
            return 0
        _, errors = helpers.bulk(self.client, actions, raise_on_error=False, refresh=False)
        failures = [e for e in errors if _status(e) != 409]
        if any(_status(e) >= 500 or _status(e) == 429 for e in failures):
            raise RetryableIndexError(
                f"OpenSearch refused {len(failures)} documents: {failures[:3]}"
            )
        if failures:
            raise ValueError(f"OpenSearch rejected documents: {failures[:3]}")
        return len(actions) - len(errors)

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.alias)


def _status(error: dict[str, Any]) -> int:
    return int(next(iter(error.values())).get("status", 500))
