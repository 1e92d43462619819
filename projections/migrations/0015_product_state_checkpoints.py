"""Product state checkpoints kept by the audit projector, and the audit log by product version:
time travel over a product's history reads a bounded slice of both.

The audit index is built concurrently (the audit table is the largest; writers keep going).
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("projections", "0014_order_refund_in_flight"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProductStateCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("product_id", models.UUIDField()),
                ("version", models.IntegerField()),
                ("rows", models.IntegerField()),
                ("occurred_at", models.DateTimeField()),
                ("state", models.JSONField()),
            ],
        ),
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(fields=["aggregate_id", "version"], name="audit_events_by_version"),
        ),
        migrations.AddIndex(
            model_name="productstatecheckpoint",
            index=models.Index(
                fields=["product_id", "occurred_at"], name="product_checkpoint_time"
            ),
        ),
        migrations.AddIndex(
            model_name="productstatecheckpoint",
            index=models.Index(fields=["product_id", "rows"], name="product_checkpoint_rows"),
        ),
        migrations.AddConstraint(
            model_name="productstatecheckpoint",
            constraint=models.UniqueConstraint(
                fields=("product_id", "version"), name="product_checkpoint_version"
            ),
        ),
    ]
