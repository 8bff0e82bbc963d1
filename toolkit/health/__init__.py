"""`cargohold health`: live probes of a deployed environment with the application's own credentials."""

from toolkit.health.run import choose_principal, run_health

__all__ = ["choose_principal", "run_health"]
