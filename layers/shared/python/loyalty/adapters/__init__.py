"""AWS adapters implementing the domain's ports."""
