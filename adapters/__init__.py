"""Adapters any side may import: clients of the backing servers, signal handling, the
JWT authentication both APIs use and the schema of their error envelope. No project imports."""
