"""The embedded local stack (`make run`): moto in server mode, the same resources as AWS,
the Chalice app served locally, queue pumps and schedules in threads, and data that
survives restarts. Nothing here runs in Lambda."""
