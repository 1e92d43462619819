"""The product read table, one row per product, written only by the catalog projector."""

from django.db import models

# Events written before reviews carried their author's display name get the label the
# write side gives a reviewer without one (the read side imports nothing from it).
ANONYMOUS_REVIEWER = "Verified buyer"


class ProductView(models.Model):
    """Current state of a product as the read API serves it."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    category_id = models.UUIDField(null=True)
    seller_id = models.UUIDField(null=True, db_index=True)
    stock = models.IntegerField()
    reserved = models.IntegerField(default=0)
    discontinued = models.BooleanField(default=False)
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, null=True)
    rating_count = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.IntegerField()

    class Meta:
        app_label = "projections"
        db_table = "projections_product_view"

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def stock_available(self) -> int:
        return self.stock - self.reserved


class CategoryView(models.Model):
    """A category with its materialized path (ids and names from the root down)."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=100)
    parent_id = models.UUIDField(null=True, db_index=True)
    path_ids = models.JSONField(default=list)
    path_names = models.JSONField(default=list)
    path = models.TextField()
    depth = models.IntegerField()

    class Meta:
        app_label = "projections"
        db_table = "projections_category_view"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class AggregateVersion(models.Model):
    """Last version of an aggregate a projector applied, where no per-row version fits."""

    projector = models.CharField(max_length=200)
    aggregate_id = models.UUIDField()
    version = models.IntegerField()

    class Meta:
        app_label = "projections"
        constraints = [
            models.UniqueConstraint(
                fields=["projector", "aggregate_id"], name="one_version_per_aggregate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.projector} {self.aggregate_id} v{self.version}"


class ReviewView(models.Model):
    """A buyer's review as the product page lists it."""

    id = models.UUIDField(primary_key=True)
    product_id = models.UUIDField(db_index=True)
    customer_id = models.UUIDField()  # never shown: the public list names the reviewer
    reviewer_name = models.CharField(max_length=40, default=ANONYMOUS_REVIEWER)
    rating = models.IntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "projections"
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.product_id}"
