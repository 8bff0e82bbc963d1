locals {
  emulated = var.endpoint != null
}

provider "aws" {
  region = var.region

  # How to reach the account, as config.yaml says (cargohold's own AWS calls use the same). On an
  # emulator the driver hands Terraform the profile's credentials itself, so no profile file is read.
  profile = local.emulated ? null : var.profile

  dynamic "assume_role" {
    for_each = var.assume_role == null ? [] : [var.assume_role]
    content {
      role_arn     = assume_role.value.role_arn
      external_id  = assume_role.value.external_id
      session_name = assume_role.value.session_name
      duration     = assume_role.value.duration
    }
  }

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
