"""The event store's table, for readers that query it in SQL (lag, the audit log's holes)."""

# The eventsourcing application "shopstream" keeps its notification log in this table.
EVENTS_TABLE = "shopstream_events"
