"""DynamoDB adapter: PynamoDB models and the repository over them."""
