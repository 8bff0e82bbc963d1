"""`cargohold credentials issue|rotate|revoke`: an IAM-user principal's access keys, made out of band.

Never in Terraform state; written only to the application's .env file (0600). Roles need none.
"""
