"""The OpenSearch product index behind an alias (`<ns>.products` -> `<ns>.products_vN`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch, helpers

from adapters.outages import OutageError, opensearch_status_is_outage

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


class RetryableIndexError(OutageError):
    """OpenSearch could not take the write now; the same batch may be tried again."""


class DocumentsRefused(ValueError):
    """OpenSearch refused documents for their content (a 4xx such as mapper_parsing_exception)."""


@dataclass(frozen=True)
class Refusal:
    """One document OpenSearch refused for its content."""

    document_id: str
    status: int
    error: str


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
        Raises DocumentsRefused if any document is refused for its content.
        """
        documents = list(documents)
        refused = self.index_documents(documents, index, version_type)
        if refused:
            raise DocumentsRefused(f"OpenSearch rejected documents: {refused[:3]}")
        return len(documents)

    def index_documents(
        self,
        documents: Iterable[dict[str, Any]],
        index: str | None = None,
        version_type: str = "external",
    ) -> list[Refusal]:
        """Index what OpenSearch takes and return what it refused for its content.

        Raises RetryableIndexError when it could not take documents now (429, 5xx);
        a 409 is an older version arriving late, which is no refusal.
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
            return []
        _, errors = helpers.bulk(self.client, actions, raise_on_error=False, refresh=False)
        failures = [e for e in errors if _status(e) != 409]
        if any(opensearch_status_is_outage(_status(e)) for e in failures):
            raise RetryableIndexError(
                f"OpenSearch refused {len(failures)} documents: {failures[:3]}"
            )
        return [_refusal(e) for e in failures]

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.alias)


def _status(error: dict[str, Any]) -> int:
    return int(next(iter(error.values())).get("status", 500))


def _refusal(error: dict[str, Any]) -> Refusal:
    item = next(iter(error.values()))
    detail = item.get("error", {})
    reason = detail.get("reason", "") if isinstance(detail, dict) else str(detail)
    kind = detail.get("type", "") if isinstance(detail, dict) else ""
    return Refusal(str(item.get("_id", "")), _status(error), f"{kind}: {reason}")
