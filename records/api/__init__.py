"""The JSON API for pipelines (/api/v1/, Django REST framework): per-user tokens (tokens.py), their
authentication, scope and throttle (auth.py), the endpoints (views.py) over the same services and
rules as the web, and their OpenAPI schema (drf-spectacular)."""
