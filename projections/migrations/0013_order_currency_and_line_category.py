"""Orders record their currency and each line its category (OrderPlaced schema 2).

Rows projected before were placed in the shop's one currency, which fills them in; their
lines' categories were not recorded and stay null.
"""

from django.db import migrations, models

from contracts.schemas import SHOP_CURRENCY


class Migration(migrations.Migration):
    dependencies = [
        ("projections", "0012_escalation_views"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderview",
            name="currency",
            field=models.CharField(default=SHOP_CURRENCY, max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="orderlineview",
            name="category_id",
            field=models.UUIDField(null=True),
        ),
    ]
