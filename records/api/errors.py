"""The API's answers to refusals, as {"detail": words}: bad input 400 (the same words as the web
and the CLI), a run whose Idempotency-Key named another run 409, the remote system's errors 502
(a record it doesn't know: 400). The job actions answer their rules' refusals 409 themselves."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from records.api.runs import KeyReused
from records.connectors.errors import ConnectorError, NotFound
from records.lib.error_words import friendly_error, service_error_message


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, KeyReused):
        return _answer(service_error_message(exc), status.HTTP_409_CONFLICT)
    if isinstance(exc, ValidationError):
        return _answer(service_error_message(exc), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConnectorError):
        code = status.HTTP_400_BAD_REQUEST if isinstance(exc, NotFound) else status.HTTP_502_BAD_GATEWAY
        return _answer(friendly_error(exc), code)
    return exception_handler(exc, context)


def _answer(words: str, code: int) -> Response:
    return Response({"detail": words}, status=code)
