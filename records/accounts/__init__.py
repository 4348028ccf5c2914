"""Who signs in: OpenID Connect sign-on, its session re-check, login lock-outs and their admin."""
