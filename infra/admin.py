"""Django admin at /admin/ on the write API: users, categories and products.

Categories and products are listed from their read tables, but every change goes
through the same application commands as the API (never a write to a read table).
A change shows in the lists once the projector has applied it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from projections.catalog.models import CategoryView, ProductView
from write_api.accounts import services
from write_api.accounts.models import Role, User
from write_api.application import UNCHANGED, shop
from write_api.context import command_context
from write_api.domain.errors import DomainError
from write_api.domain.limits import DESCRIPTION_MAX, PRODUCT_NAME_MAX
from write_api.domain.metadata import CommandContext
from write_api.domain.product import check_product_fields

admin.site.site_header = "shopstream admin"
# Decisions checked on a loaded aggregate that is never saved.
_DRY_RUN = CommandContext(actor_role="admin")


class AdminRoleOnly(admin.ModelAdmin):
    """Only the admin role manages the shop here, whatever Django permissions say."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The new row exists only once projected: go back to the list."""
        self.message_user(request, "Saved. It appears here once projected.", messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist")
        )

    def log_addition(  # type: ignore[override]  # logs nothing, so returns no LogEntry
        self, request: HttpRequest, obj: Any, message: Any
    ) -> None:
        """Nothing to log against: the command's event is the record of the addition."""


def _is_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.role == Role.ADMIN)


class UserCreationForm(forms.ModelForm):
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["email", "role"]


@admin.register(User)
class UserAdmin(AdminRoleOnly):
    list_display = ["email", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active"]
    search_fields = ["email"]
    ordering = ["email"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = UserCreationForm
        else:
            kwargs["fields"] = ["role", "is_active"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["email", "date_joined", "last_login"] if obj else []

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        context = command_context(request)
        if not change:
            created = services.sign_up(
                shop(),
                email=obj.email,
                password=form.cleaned_data["password"],
                role=obj.role,
                context=context,
            )
            obj.pk = created.pk
            return
        stored = User.objects.get(pk=obj.pk)
        if obj.role != stored.role:
            services.change_role(shop(), obj.pk, role=obj.role, context=context)
        if obj.is_active != stored.is_active:
            toggle = services.reactivate if obj.is_active else services.deactivate
            toggle(shop(), obj.pk, context=context)

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        return admin.ModelAdmin.response_add(self, request, obj, post_url_continue)

    def log_addition(  # type: ignore[override]  # logs nothing, so returns no LogEntry
        self, request: HttpRequest, obj: Any, message: Any
    ) -> None:
        admin.ModelAdmin.log_addition(self, request, obj, message)


class CategoryForm(forms.ModelForm):
    parent = forms.ModelChoiceField(CategoryView.objects.all(), required=False)

    class Meta:
        model = CategoryView
        fields = ["name"]

    def clean(self) -> dict[str, Any]:
        """Decide on a loaded tree without saving, so refusals show on the form."""
        data: dict[str, Any] = super().clean() or self.cleaned_data
        parent = data.get("parent")
        parent_id = parent.id if parent else None
        tree = shop().category_tree()
        try:
            if self.instance.pk is None:
                tree.add(name=data.get("name", ""), parent_id=parent_id, context=_DRY_RUN)
            else:
                tree.rename(
                    category_id=self.instance.pk, name=data.get("name", ""), context=_DRY_RUN
                )
                tree.move(category_id=self.instance.pk, parent_id=parent_id, context=_DRY_RUN)
        except DomainError as refused:
            raise forms.ValidationError(admin_messages(refused)) from None
        return data


@admin.register(CategoryView)
class CategoryAdmin(AdminRoleOnly):
    form = CategoryForm
    list_display = ["path", "depth"]
    search_fields = ["name", "path"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            form.base_fields["parent"].initial = obj.parent_id
        return form

    def save_model(self, request: HttpRequest, obj: CategoryView, form: Any, change: bool) -> None:
        parent = form.cleaned_data.get("parent")
        parent_id = parent.id if parent else None
        if change:
            shop().change_category(
                obj.pk, name=obj.name, parent_id=parent_id, context=command_context(request)
            )
        else:
            obj.pk, _ = shop().add_category(
                name=obj.name, parent_id=parent_id, context=command_context(request)
            )


class ProductForm(forms.ModelForm):
    name = forms.CharField(max_length=PRODUCT_NAME_MAX)
    description = forms.CharField(widget=forms.Textarea, required=False, max_length=DESCRIPTION_MAX)
    price = forms.DecimalField(min_value=Decimal("0.01"), decimal_places=2, max_digits=14)
    category = forms.ModelChoiceField(CategoryView.objects.all(), required=False)
    stock = forms.IntegerField(min_value=0, required=False, help_text="Only when creating.")
    seller = forms.ModelChoiceField(
        User.objects.filter(role=Role.SELLER, is_active=True), required=False
    )

    class Meta:
        model = ProductView
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        try:
            check_product_fields(
                name=data.get("name"),
                description=data.get("description"),
                price=data.get("price"),
                stock=data.get("stock"),
            )
        except DomainError as refused:
            raise forms.ValidationError(admin_messages(refused)) from None
        return data


@admin.register(ProductView)
class ProductAdmin(AdminRoleOnly):
    form = ProductForm
    list_display = ["name", "price", "stock", "reserved", "discontinued", "version"]
    list_filter = ["discontinued"]
    search_fields = ["name"]
    actions = ["discontinue"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            for field in ("name", "description", "price"):
                form.base_fields[field].initial = getattr(obj, field)
            form.base_fields["category"].initial = obj.category_id
            form.base_fields["stock"].disabled = form.base_fields["seller"].disabled = True
        return form

    def save_model(self, request: HttpRequest, obj: ProductView, form: Any, change: bool) -> None:
        data, context = form.cleaned_data, command_context(request)
        category_id = data["category"].id if data.get("category") else None
        if change:
            shop().change_product(
                obj.pk,
                name=data["name"],
                description=data["description"],
                price=data["price"],
                category_id=category_id if category_id != obj.category_id else UNCHANGED,
                context=context,
            )
            return
        seller = data.get("seller") or request.user
        saved = shop().create_product(
            name=data["name"],
            description=data["description"],
            price=data["price"],
            category_id=category_id,
            stock=data.get("stock") or 0,
            seller_id=seller.id,
            context=context,
        )
        obj.pk = saved.id

    @admin.action(description="Discontinue selected products")
    def discontinue(self, request: HttpRequest, queryset: Any) -> None:
        for product in queryset:
            shop().discontinue_product(product.pk, context=command_context(request))
        self.message_user(request, f"Discontinued {queryset.count()}; lists update once projected.")


def admin_messages(refused: DomainError) -> list[str]:
    texts = [str(text) for field in refused.details.values() for text in field]  # type: ignore[attr-defined]
    return texts or [refused.message]


# The parked-events and escalations pages build on AdminRoleOnly above.
from infra import escalation_admin, parked_admin  # noqa: E402, F401
