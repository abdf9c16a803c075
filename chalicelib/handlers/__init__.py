"""The composition root, and the queue consumers and schedules app.py hands work to."""
