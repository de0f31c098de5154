"""Pure domain: models, rules, typed errors and the ports the use cases need. No AWS, no environment."""
