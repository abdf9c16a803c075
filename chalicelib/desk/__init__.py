"""The administrators' desk: its page, its tasks, a patient's card."""
