"""HTTP edge shared by the API handlers: app factory, caller identity, the one error mapping."""
