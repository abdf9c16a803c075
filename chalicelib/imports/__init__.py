"""Patient imports: the upload worker and its API."""
