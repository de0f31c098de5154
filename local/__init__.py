"""The local run: the platform on this machine over DynamoDB Local and moto's server."""
