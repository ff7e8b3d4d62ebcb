"""Webhooks: letter events queued in the outbox, signed, and posted to the subscribed URLs."""
