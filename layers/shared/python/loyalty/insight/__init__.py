"""Member insight: a behaviour profile per member kept from the bus's events, tags from declarative
rules, the lifecycle stage and the churn warning."""
