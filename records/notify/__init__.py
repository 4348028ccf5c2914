"""Notifications: e-mails about a job's end and about a copy awaiting approval, and signed
webhooks, each sent from an RQ job queued when the transition's transaction commits."""
