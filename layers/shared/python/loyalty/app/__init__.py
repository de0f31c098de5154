"""Use cases: each orchestrates one operation over the domain and its ports."""
