"""The search port (tweets by words, phrases and hashtags) and its adapters."""
