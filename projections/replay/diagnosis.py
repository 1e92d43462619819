"""Which event of a batch that failed to apply fails on its own (the replay names it)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from adapters.outages import is_outage
from projections.consumer import Projector
from projections.replay.generation import Generation

Envelope = dict[str, Any]


def culprit(
    projector: Projector, generation: Generation, envelopes: list[Envelope], error: Exception
) -> tuple[Envelope, Exception]:
    """The first event that fails applied alone, and its error (the batch's last event and
    `error` if each applies alone); everything it applied is rolled back. An outage met
    meanwhile is raised: it says nothing about the events."""
    found, cause = envelopes[0], error
    try:
        with generation.writing():
            for envelope in envelopes:
                found = envelope
                with transaction.atomic():
                    projector.apply([envelope])
            found = envelopes[-1]
            raise _RollBack
    except _RollBack:
        pass
    except Exception as single:
        if is_outage(single):
            raise
        cause = single
    return found, cause


class _RollBack(Exception):
    """Undo a diagnosis that applied every event (the failure needed the whole batch)."""
