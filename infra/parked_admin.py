"""The admin page of parked events: read-only rows, redrive and skip through the operator service.

Registered by infra.admin. Changes go only through `projections.parked_events`, the same
service as `manage.py parked`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from adapters.outages import is_outage
from infra.admin import AdminRoleOnly
from projections import parked_events
from projections.models import ParkedEvent
from projections.registry import build_projector
from projections.replay.guard import ReplayRunning


class SkipForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, help_text="Why these will never be applied.")


@admin.register(ParkedEvent)
class ParkedEventAdmin(AdminRoleOnly):
    list_display = ["id", "status", "projector", "aggregate_id", "position", "attempts"]
    list_display += ["parked_at", "short_error"]
    list_filter = ["status", "projector"]
    search_fields = ["aggregate_id"]
    actions = ["redrive", "skip"]
    readonly_fields = [f.name for f in ParkedEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only: state changes only through the actions

    @admin.display(description="error")
    def short_error(self, obj: ParkedEvent) -> str:
        return obj.error[:120]

    @admin.action(description="Redrive the aggregates of the selected parked events")
    def redrive(self, request: HttpRequest, queryset: QuerySet[ParkedEvent]) -> None:
        try:
            results = parked_events.redrive(
                [e.pk for e in queryset], build_projector, by=_by(request)
            )
        except (parked_events.NotParked, ReplayRunning) as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return
        except Exception as error:
            if not is_outage(error):
                raise
            text = f"A server is away; stopped, and what was not done stays parked: {error!r}"
            self.message_user(request, text, messages.ERROR)
            return
        for result in results:
            done = ", ".join(f"#{i}" for i in result.redriven) or "none"
            if result.failed is None:
                self.message_user(request, f"{result.aggregate_id}: redriven {done}.")
            else:
                text = f"{result.aggregate_id}: redriven {done}; #{result.failed} still fails"
                self.message_user(request, f"{text}: {result.error}", messages.WARNING)

    @admin.action(description="Skip the selected parked events (asks for a reason)")
    def skip(
        self, request: HttpRequest, queryset: QuerySet[ParkedEvent]
    ) -> TemplateResponse | None:
        form = SkipForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                skipped = parked_events.skip(
                    [e.pk for e in queryset], form.cleaned_data["reason"], by=_by(request)
                )
            except (parked_events.NotParked, ValueError) as refused:
                self.message_user(request, str(refused), messages.ERROR)
                return None
            self.message_user(request, f"Skipped {', '.join(f'#{e.pk}' for e in skipped)}.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Skip parked events",
            "opts": self.model._meta,
            "events": list(queryset),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/projections/parkedevent/skip.html", context)


def _by(request: HttpRequest) -> str:
    return f"admin:{getattr(request.user, 'email', '')}"
