"""Category commands (admins only): add a category anywhere in the tree, rename or move it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.openapi import errors
from write_api.application import UNCHANGED, shop
from write_api.context import command_context
from write_api.domain.category import CategoryTree
from write_api.domain.limits import CATEGORY_NAME_MAX
from write_api.fields import StrictCharField
from write_api.permissions import IsAdmin
from write_api.serializers import NonEmptyPatchSerializer, StrictSerializer
from write_api.views.openapi import CategorySerializer


def category_body(tree: CategoryTree, category_id: UUID) -> dict[str, Any]:
    node = tree.get(category_id)
    chain = list(reversed(tree.ancestors(category_id)))
    return {
        "id": str(category_id),
        "name": node.name,
        "parent_id": str(node.parent_id) if node.parent_id else None,
        "path": "/".join(tree.get(i).name for i in chain),
        "ancestor_ids": [str(i) for i in chain],
        "version": tree.version,
    }


class CategoryCreateApi(APIView):
    """Add a category under `parent_id` (or at the top)."""

    permission_classes = [IsAdmin]

    class InputSerializer(StrictSerializer):
        name = StrictCharField(max_length=CATEGORY_NAME_MAX, allow_blank=True)
        parent_id = serializers.UUIDField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: CategorySerializer, **errors(409)})
    def post(self, request: Request, version: str) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        category_id, _ = shop().add_category(
            **body.validated_data, context=command_context(request)
        )
        tree = shop().category_tree()
        return Response(category_body(tree, category_id), status=status.HTTP_201_CREATED)


class CategoryChangeApi(APIView):
    """Rename a category and/or move it under another parent (never under itself)."""

    permission_classes = [IsAdmin]

    class InputSerializer(NonEmptyPatchSerializer):
        name = StrictCharField(required=False, max_length=CATEGORY_NAME_MAX, allow_blank=True)
        parent_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: CategorySerializer, **errors(409)})
    def patch(self, request: Request, version: str, category_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = body.validated_data
        shop().change_category(
            category_id,
            name=changes.get("name"),
            parent_id=changes.get("parent_id", UNCHANGED),
            context=command_context(request),
        )
        return Response(category_body(shop().category_tree(), category_id))
