"""`cargohold credentials issue|rotate|revoke`: an IAM-user principal's access keys, made out of band.

Never in Terraform state; written only to the application's .env file (0600). Roles need none.
"""

from toolkit.credentials.keys import (
    KeysError,
    Outcome,
    ProofFailed,
    RevokeRefused,
    RoleNeedsNoKeys,
    issue,
    revoke,
    rotate,
)

__all__ = ["KeysError", "Outcome", "ProofFailed", "RevokeRefused", "RoleNeedsNoKeys", "issue", "revoke", "rotate"]
