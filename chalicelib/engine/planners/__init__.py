"""The hourly tick's planners: who is due for a recall, a follow-up, a greeting."""
