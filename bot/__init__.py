"""Wegweiser runtime: settings, the PTB Application, the CLI and the Bot API sandbox."""
