"""Accounts, server-side sessions in Redis, login rate limits."""
