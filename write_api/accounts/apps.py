from django.apps import AppConfig
from django.db.models.signals import post_delete


class AccountsConfig(AppConfig):
    name = "write_api.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from write_api.accounts import services

        post_delete.connect(
            services.revoke_deleted_user,
            sender=self.get_model("User"),
            dispatch_uid="accounts.revoke_deleted_user",
        )
