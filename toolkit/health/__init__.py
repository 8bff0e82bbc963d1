"""`cargohold health`: live probes of a deployed environment with the application's own credentials."""
