"""The social graph: users and who follows whom (port and adapters)."""
