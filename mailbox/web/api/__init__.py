"""The JSON API under /api/v1 (issue 6), described by /api/v1/openapi.json."""
