"""The static engine's rule checks (see base.py for what a check may do; runner.py runs them)."""
