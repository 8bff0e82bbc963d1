# Partial configuration: the toolkit supplies bucket, key, region, locking and (for an
# emulator) endpoints with `terraform init -backend-config=...`.
terraform {
  backend "s3" {}
}
