"""What `toolkit` (provision, audit, adopt) and `migrate` (the migration engine) both stand on, so neither
imports the other: the config model (config/), errors, AWS sessions (aws.py), the S3 request layer
(s3http.py), progress reporting and where the bundled Terraform lives (paths.py)."""
