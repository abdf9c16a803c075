"""Adapters at the edge: AWS services and HTTP APIs behind the ports."""
