"""Data many tests share."""

ADDRESS = {
    "name": "Ann",
    "line1": "1 Main St",
    "city": "Springfield",
    "postcode": "12345",
    "country": "US",
}
