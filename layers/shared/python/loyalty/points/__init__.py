"""Points: the program rules, earning on purchases and activities, returns, adjustments, activation,
and the one ledger operation every points write goes through."""
