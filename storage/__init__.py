"""Wegweiser storage: models, domain operations over a session, migrations. Knows nothing of Telegram."""
