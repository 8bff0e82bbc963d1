"""cargohold: provision AWS storage with Terraform, migrate files into it, audit it."""

__version__ = "0.1.0"
