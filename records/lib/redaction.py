"""Keep credentials out of log output, whatever logger produced the line."""

import logging
import re

_PATTERNS = [
    # header-ish "Authorization: Zoho-oauthtoken xyz" / "Authorization: ABC"
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(zoho-oauthtoken\s+|bearer\s+)?[^\s'\",}]+"),
        r"\1\2[redacted]",
    ),
    # key=value or "key": "value" for secret-ish names
    (
        re.compile(
            r"(?i)((?:password|client_secret|refresh_token|access_token|sessionid|session_id|secret)"
            r"['\"]?\s*[:=]\s*['\"]?)[^\s&'\",}]+"
        ),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
