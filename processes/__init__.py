"""Background processes that drive commands from read models (order expiry; the
reconciliation and escalation timers to come). They sit above both sides: they read
projections and call the write-side application."""
