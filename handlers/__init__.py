"""Telegram journeys: each module translates between Telegram updates and storage operations."""
