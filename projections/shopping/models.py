"""Read tables of carts and orders, written only by the shopping projector."""

from django.db import models


class CartLineView(models.Model):
    """One line of a customer's cart."""

    customer_id = models.UUIDField(db_index=True)
    product_id = models.UUIDField()
    quantity = models.IntegerField()

    class Meta:
        app_label = "projections"
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "product_id"], name="one_line_per_product"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.quantity} x {self.product_id}"


class CartView(models.Model):
    """A customer's cart: its version (the lines are CartLineView rows)."""

    customer_id = models.UUIDField(primary_key=True)
    cart_id = models.UUIDField(unique=True)
    version = models.IntegerField()

    class Meta:
        app_label = "projections"

    def __str__(self) -> str:
        return f"cart of {self.customer_id} v{self.version}"


class OrderView(models.Model):
    """An order as customers, sellers and admins track it."""

    id = models.UUIDField(primary_key=True)
    customer_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=32)
    payment = models.CharField(max_length=32, default="unpaid")
    # unpaid, paid, partially_refunded, refunded: what the customer has paid and got back.
    payment_status = models.CharField(max_length=32, default="unpaid")
    refunded_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)  # ISO 4217, of the total and every price
    shipping_address = models.JSONField()
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    version = models.IntegerField()

    class Meta:
        app_label = "projections"
        ordering = ["-created_at"]
        indexes = [
            # Only orders with a payment attempt in flight: the reconciliation's scan
            # stays as small as the attempts in flight, whatever the shop's history.
            models.Index(
                fields=["updated_at"],
                condition=models.Q(payment="pending"),
                name="order_payment_in_flight",
            )
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"


class OrderLineView(models.Model):
    """A line of an order with the name and price it had at checkout."""

    order = models.ForeignKey(OrderView, related_name="lines", on_delete=models.CASCADE)
    product_id = models.UUIDField()
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    quantity = models.IntegerField()
    seller_id = models.UUIDField(null=True, db_index=True)
    # The product's category at checkout; None for none, and for orders placed before it
    # was recorded (OrderPlaced schema 1).
    category_id = models.UUIDField(null=True)

    class Meta:
        app_label = "projections"

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class OrderStatusChange(models.Model):
    """One step of an order's status history: to what, when, by whom."""

    order = models.ForeignKey(OrderView, related_name="history", on_delete=models.CASCADE)
    status = models.CharField(max_length=32)
    at = models.DateTimeField()
    by = models.CharField(max_length=64, blank=True)
    by_role = models.CharField(max_length=32, blank=True)
    version = models.IntegerField()

    class Meta:
        app_label = "projections"
        ordering = ["version"]

    def __str__(self) -> str:
        return f"{self.order_id} -> {self.status}"


class OrderFulfilmentView(models.Model):
    """A parcel of an order: the lines it carries, how it travels, whether it arrived."""

    id = models.UUIDField(primary_key=True)
    order = models.ForeignKey(OrderView, related_name="fulfilments", on_delete=models.CASCADE)
    product_ids = models.JSONField()
    status = models.CharField(max_length=32)
    carrier = models.CharField(max_length=100, blank=True)  # "" when not given
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True)

    class Meta:
        app_label = "projections"
        ordering = ["shipped_at", "id"]

    def __str__(self) -> str:
        return f"fulfilment {self.id} of {self.order_id} ({self.status})"


class OrderRefundView(models.Model):
    """One refund of an order: how much, why, and where the gateway has it."""

    id = models.UUIDField(primary_key=True)
    order = models.ForeignKey(OrderView, related_name="refunds", on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=16)  # requested, pending, succeeded, failed
    reason = models.CharField(max_length=500)
    product_ids = models.JSONField(default=list)  # the lines it is for (sellers see their own)
    at = models.DateTimeField()
    by = models.CharField(max_length=64, blank=True)
    by_role = models.CharField(max_length=32, blank=True)

    class Meta:
        app_label = "projections"
        ordering = ["at", "id"]
        indexes = [
            # Only refunds the gateway has not settled: the scans that resume and reconcile
            # them stay as small as the refunds in flight, whatever the shop's history.
            models.Index(
                fields=["at"],
                condition=models.Q(status__in=["requested", "pending"]),
                name="order_refund_in_flight",
            )
        ]

    def __str__(self) -> str:
        return f"refund {self.id} of {self.order_id}: {self.amount} ({self.status})"
