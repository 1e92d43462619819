"""A partial index of the refunds the gateway has not settled, for the scans that resume
(`requested`) and reconcile (`pending`) them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projections", "0013_order_currency_and_line_category"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="orderrefundview",
            index=models.Index(
                condition=models.Q(("status__in", ["requested", "pending"])),
                fields=["at"],
                name="order_refund_in_flight",
            ),
        ),
    ]
