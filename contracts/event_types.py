"""The `type` of every published event, by name. Projectors and the read API compare
envelope types with these, never with literals; write_api/published_events.py maps each
domain event class to one of them (tests/unit/test_published_events.py checks both ways)."""

from __future__ import annotations

ACCOUNT_CREATED = "AccountCreated"
ACCOUNT_DEACTIVATED = "AccountDeactivated"
ACCOUNT_REACTIVATED = "AccountReactivated"
ACCOUNT_ROLE_CHANGED = "AccountRoleChanged"
CART_CREATED = "CartCreated"
CART_QUANTITY_SET = "CartQuantitySet"
CART_ITEM_REMOVED = "CartItemRemoved"
CART_CHECKED_OUT = "CartCheckedOut"
CATEGORY_TREE_CREATED = "CategoryTreeCreated"
CATEGORY_TREE_CATEGORY_ADDED = "CategoryTreeCategoryAdded"
CATEGORY_TREE_CATEGORY_RENAMED = "CategoryTreeCategoryRenamed"
CATEGORY_TREE_CATEGORY_MOVED = "CategoryTreeCategoryMoved"
ESCALATION_OPENED = "EscalationOpened"
ESCALATION_MESSAGE_POSTED = "EscalationMessagePosted"
ESCALATION_REFUND_STARTED = "EscalationRefundStarted"
ESCALATION_REFUND_ABANDONED = "EscalationRefundAbandoned"
ESCALATION_RESOLVED = "EscalationResolved"
ORDER_PLACED = "OrderPlaced"
ORDER_PAYMENT_STARTED = "OrderPaymentStarted"
ORDER_PAYMENT_RESUMED = "OrderPaymentResumed"
ORDER_PAYMENT_PENDING = "OrderPaymentPending"
ORDER_PAYMENT_FAILED = "OrderPaymentFailed"
ORDER_PAYMENT_AUTHORISED = "OrderPaymentAuthorised"
ORDER_PAYMENT_VOIDED = "OrderPaymentVoided"
ORDER_PAID = "OrderPaid"
ORDER_STATUS_CHANGED = "OrderStatusChanged"
ORDER_CANCELLED = "OrderCancelled"
ORDER_FULFILLED = "OrderFulfilled"
ORDER_FULFILMENT_DELIVERED = "OrderFulfilmentDelivered"
ORDER_REFUND_REQUESTED = "OrderRefundRequested"
ORDER_REFUND_PENDING = "OrderRefundPending"
ORDER_REFUND_SUCCEEDED = "OrderRefundSucceeded"
ORDER_REFUND_FAILED = "OrderRefundFailed"
PRODUCT_CREATED = "ProductCreated"
PRODUCT_DETAILS_CHANGED = "ProductDetailsChanged"
PRODUCT_REPRICED = "ProductRepriced"
PRODUCT_RECATEGORIZED = "ProductRecategorized"
PRODUCT_STOCK_ADJUSTED = "ProductStockAdjusted"
PRODUCT_RESERVED = "ProductReserved"
PRODUCT_RESERVATION_RELEASED = "ProductReservationReleased"
PRODUCT_SOLD = "ProductSold"
PRODUCT_DISCONTINUED = "ProductDiscontinued"
PRODUCT_RESTOCKED = "ProductRestocked"
PURCHASES_CREATED = "PurchasesCreated"
PURCHASES_ORDER_PAID = "PurchasesOrderPaid"
REVIEW_CREATED = "ReviewCreated"

# The shopping, notifications and audit projectors and the read API's history fold these;
# a new Order event must be added here and handled there.
ORDER_EVENT_TYPES = frozenset(
    {
        ORDER_PLACED,
        ORDER_PAYMENT_STARTED,
        ORDER_PAYMENT_RESUMED,
        ORDER_PAYMENT_PENDING,
        ORDER_PAYMENT_FAILED,
        ORDER_PAYMENT_AUTHORISED,
        ORDER_PAYMENT_VOIDED,
        ORDER_PAID,
        ORDER_STATUS_CHANGED,
        ORDER_CANCELLED,
        ORDER_FULFILLED,
        ORDER_FULFILMENT_DELIVERED,
        ORDER_REFUND_REQUESTED,
        ORDER_REFUND_PENDING,
        ORDER_REFUND_SUCCEEDED,
        ORDER_REFUND_FAILED,
    }
)
# Events of other aggregates that concern an order: each carries its `order_id`, and the
# order's timeline shows them with the order's own events.
ESCALATION_EVENT_TYPES = frozenset(
    {
        ESCALATION_OPENED,
        ESCALATION_MESSAGE_POSTED,
        ESCALATION_REFUND_STARTED,
        ESCALATION_REFUND_ABANDONED,
        ESCALATION_RESOLVED,
    }
)
EVENT_TYPES = frozenset(
    {
        ACCOUNT_CREATED,
        ACCOUNT_DEACTIVATED,
        ACCOUNT_REACTIVATED,
        ACCOUNT_ROLE_CHANGED,
        CART_CREATED,
        CART_QUANTITY_SET,
        CART_ITEM_REMOVED,
        CART_CHECKED_OUT,
        CATEGORY_TREE_CREATED,
        CATEGORY_TREE_CATEGORY_ADDED,
        CATEGORY_TREE_CATEGORY_RENAMED,
        CATEGORY_TREE_CATEGORY_MOVED,
        PRODUCT_CREATED,
        PRODUCT_DETAILS_CHANGED,
        PRODUCT_REPRICED,
        PRODUCT_RECATEGORIZED,
        PRODUCT_STOCK_ADJUSTED,
        PRODUCT_RESERVED,
        PRODUCT_RESERVATION_RELEASED,
        PRODUCT_SOLD,
        PRODUCT_DISCONTINUED,
        PRODUCT_RESTOCKED,
        PURCHASES_CREATED,
        PURCHASES_ORDER_PAID,
        REVIEW_CREATED,
    }
    | ORDER_EVENT_TYPES
    | ESCALATION_EVENT_TYPES
)
