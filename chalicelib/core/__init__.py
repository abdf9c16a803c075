"""The unit of work and what every feature builds on: runs, composition, credit, segments."""
