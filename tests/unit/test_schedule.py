from django.conf import settings

from infra.celery_app import app


def test_beat_runs_order_expiry_payment_reconciliation_and_key_purging_on_schedule() -> None:
    # given
    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    # then
    assert schedule["expire-unpaid-orders"]["schedule"] == settings.ORDER_EXPIRY_SCAN_SECONDS
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)
    assert settings.ORDER_PAYMENT_TIMEOUT_SECONDS == 900
    assert schedule["reconcile-payments"] == {
        "task": "processes.tasks.reconcile_payments",
        "schedule": settings.PAYMENT_RECONCILE_SCAN_SECONDS,
    }
    assert settings.PAYMENT_RECONCILE_AFTER_SECONDS == 300
