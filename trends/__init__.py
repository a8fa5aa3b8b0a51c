"""The trends port (distinct authors per hashtag per time bucket) and its adapters."""
