locals {
  emulated = var.endpoint != null
}

provider "aws" {
  region = var.region

  # Against an emulator (moto, LocalStack) every service the stack uses goes to var.endpoint;
  # null leaves the provider's default endpoints.
  endpoints {
    s3                     = var.endpoint
    dynamodb               = var.endpoint
    iam                    = var.endpoint
    sts                    = var.endpoint
    applicationautoscaling = var.endpoint
    kms                    = var.endpoint
  }

  s3_use_path_style           = local.emulated
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated
  skip_region_validation      = local.emulated

  # Terraform run by hand with another account's credentials stops here, as cargohold's own guard
  # stops it first. Not on an emulator: the provider skips asking who it is there (the CLI still asks).
  allowed_account_ids = local.emulated ? null : [var.account_id]

  default_tags {
    tags = merge(var.tags, {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "cargohold"
    })
  }
}
