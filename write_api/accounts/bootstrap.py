"""Create the first admin account from configuration."""

from write_api.accounts.models import Role, User


def bootstrap_admin(email: str, password: str) -> bool:
    """Ensure an active admin with this email exists; True when it was created now."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        User.objects.create_superuser(email, password)
        return True
    User.objects.filter(pk=user.pk).update(
        role=Role.ADMIN, is_staff=True, is_superuser=True, is_active=True
    )
    return False
