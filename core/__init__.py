"""Chirp's domain core: settings, ids, validation, security and services."""
