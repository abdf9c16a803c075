"""What moves work: events in and their appliers, triggers, ladder steps, offers, planners."""
