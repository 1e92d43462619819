"""The published language between the write side and its readers: the envelope, the topic
names, the event type names and the payloads projectors read. Plain Python, no project or
framework imports: the write side produces it, projections and the read API consume it."""
