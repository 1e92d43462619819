"""An email backend for end-to-end tests: a mail server that is slow to accept messages.

It marks when a send starts, waits SLOW_EMAIL_SECONDS (the window in which a test
kills the worker), then writes the message like Django's file backend.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.core.mail.backends.filebased import EmailBackend


class SlowFileBackend(EmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            event = message.extra_headers.get("X-Shopstream-Event", "unknown")
            (Path(self.file_path) / f"sending-{event}.marker").touch()
        time.sleep(float(os.environ.get("SLOW_EMAIL_SECONDS", "0")))
        return super().send_messages(email_messages)
