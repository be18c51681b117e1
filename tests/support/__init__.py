"""Test support: databases on SQLite and PostgreSQL, and the bot running against the sandbox."""
