from django.conf import settings

from infra.celery_app import app


def test_beat_runs_order_expiry_and_key_purging_on_schedule() -> None:
    # given
    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    # then
    assert schedule["expire-unpaid-orders"]["schedule"] == settings.ORDER_EXPIRY_SCAN_SECONDS
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)
    assert settings.ORDER_PAYMENT_TIMEOUT_SECONDS == 900
