"""The run pipeline: what was asked (plan, profiles), the two container steps, the
orchestrator that strings them together, and what comes back (collect, verify)."""
