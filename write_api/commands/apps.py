from django.apps import AppConfig


class CommandsConfig(AppConfig):
    """Write-side bookkeeping of command delivery: idempotency keys and gateway events."""

    name = "write_api.commands"
    label = "commands"
    default_auto_field = "django.db.models.BigAutoField"
