"""Members: enrollment (one member per phone chain-wide), lookup by phone or card, profile and consents."""
