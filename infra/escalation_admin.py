"""The admin page of open escalations, oldest first: read-only rows, each linked to its order's
timeline, resolved only through the resolve use case (as the API resolves them).

Registered by infra.admin. A resolution shows here once the projector has applied it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from infra.admin import AdminRoleOnly, admin_messages
from projections.escalations.models import EscalationView
from read_api.history import event_body, order_timeline
from write_api.context import command_context
from write_api.domain.errors import DomainError
from write_api.domain.escalation_rules import MESSAGE_MAX, RESOLUTIONS
from write_api.escalation_service import escalations


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=[(r, r) for r in RESOLUTIONS])
    amount = forms.DecimalField(
        required=False, max_digits=14, decimal_places=2, help_text="Refunds only, e.g. 12.50."
    )
    restock = forms.BooleanField(required=False, help_text="Refunds only.")
    message = forms.CharField(widget=forms.Textarea, max_length=MESSAGE_MAX)


@admin.register(EscalationView)
class EscalationAdmin(AdminRoleOnly):
    list_display = ["id", "reason", "opened_at", "order_timeline"]
    actions = ["resolve"]
    readonly_fields = [f.name for f in EscalationView._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EscalationView]:
        return super().get_queryset(request).filter(status="open").order_by("opened_at", "id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only: state changes only through the resolve action

    @admin.display(description="order")
    def order_timeline(self, obj: EscalationView) -> str:
        url = reverse("admin:escalation-order-timeline", args=[obj.order_id])
        return format_html('<a href="{}">{} (timeline)</a>', url, obj.order_id)

    def get_urls(self) -> list[URLPattern]:
        timeline = path(
            "order/<uuid:order_id>/timeline/",
            self.admin_site.admin_view(self.timeline_view),
            name="escalation-order-timeline",
        )
        return [timeline, *super().get_urls()]

    def timeline_view(self, request: HttpRequest, order_id: UUID) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Timeline of order {order_id}",
            "opts": self.model._meta,
            "events": [event_body(e) for e in order_timeline(order_id)],
        }
        return TemplateResponse(request, "admin/projections/escalationview/timeline.html", context)

    @admin.action(description="Resolve the selected escalations (asks how)")
    def resolve(
        self, request: HttpRequest, queryset: QuerySet[EscalationView]
    ) -> TemplateResponse | None:
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            for escalation in queryset:
                self._resolve_one(request, escalation, data)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Resolve escalations",
            "opts": self.model._meta,
            "escalations": list(queryset),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/projections/escalationview/resolve.html", context)

    def _resolve_one(
        self, request: HttpRequest, escalation: EscalationView, data: dict[str, Any]
    ) -> None:
        amount: Decimal | None = data.get("amount")
        if amount is not None:  # the form allows at most two places; "12.5" means 12.50
            amount = amount.quantize(Decimal("0.01"))
        refund = data["resolution"] == "refund"
        try:
            resolved = escalations().resolve(
                escalation.id,
                resolution=data["resolution"],
                amount=amount,
                restock=data.get("restock") if refund else None,
                message=data["message"],
                context=command_context(request),
            )
        except DomainError as refused:
            text = "; ".join(admin_messages(refused))
            self.message_user(request, f"{escalation.id}: {text}", messages.ERROR)
            return
        self.message_user(
            request,
            f"{escalation.id}: resolved ({resolved.resolution}); the list updates once projected.",
        )
