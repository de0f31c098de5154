"""API clients: hashed API keys for POS terminals, webshops, apps and back-office tools."""
