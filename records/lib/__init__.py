"""Small helpers every part uses: the audit log, error wording, log redaction, the signed-in user."""
