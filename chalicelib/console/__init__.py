"""The managers' console: its page, dashboard, export, clinics, networks, ad spend, digest."""
