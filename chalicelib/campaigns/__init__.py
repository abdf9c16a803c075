"""Campaigns: their API, the daily opener and its pick."""
