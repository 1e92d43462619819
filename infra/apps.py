from django.apps import AppConfig


class InfraConfig(AppConfig):
    name = "infra"
    verbose_name = "shopstream infrastructure"

    def ready(self) -> None:
        # Every Django process that enqueues a task must do it through this app (and
        # its broker), never Celery's default one. Imported here rather than in the
        # package, so the launcher (which imports infra but is no Django process)
        # does not inherit the DJANGO_SETTINGS_MODULE that celery_app sets.
        from infra import celery_app  # noqa: F401
