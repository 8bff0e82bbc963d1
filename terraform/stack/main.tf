locals {
  # ARNs are built from the names, not read from the modules, so every IAM policy is
  # fully known at plan time (and when evaluated offline).
  bucket_arns = { for k, b in var.buckets : k => "arn:${var.partition}:s3:::${b.name}" }
  table_arns  = { for k, t in var.tables : k => "arn:${var.partition}:dynamodb:${coalesce(t.region, var.region)}:${var.account_id}:table/${t.name}" }

  # Server access logging: the target bucket's name (a key of `buckets` resolves to that bucket's
  # name, as the toolkit's renderer does; anything else is an existing bucket's name), null when off.
  log_targets = { for k, b in var.buckets : k => b.access_logging == null ? null : try(var.buckets[b.access_logging.target_bucket].name, b.access_logging.target_bucket) }

  # For each bucket, the buckets that log into it: its policy must grant S3's logging service
  # (ACLs are disabled, so the log-delivery group cannot write).
  log_delivery_sources = { for k, b in var.buckets : k => [
    for sk, s in var.buckets : { source_bucket_arn = local.bucket_arns[sk], prefix = s.access_logging.target_prefix }
    if local.log_targets[sk] == b.name
  ] }

  # The customer key each bucket's or table's data is encrypted with, whose use IAM must allow (sse-kms
  # with kms_key_arn; customer-kms). SSE-S3, DynamoDB's AWS owned key and the AWS managed keys aws/s3
  # and aws/dynamodb need no IAM permission: their key policies allow the account's principals through
  # the service.
  bucket_keys = { for k, b in var.buckets : k => b.encryption.type == "sse-kms" ? b.encryption.kms_key_arn : null }
  table_keys  = { for k, t in var.tables : k => t.encryption.type == "customer-kms" ? t.encryption.kms_key_arn : null }
  kms_suffix  = startswith(var.region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com"

  # Grants resolved to the iam-principal module's shape. A key that is not defined yields
  # arn = null, which the module rejects (see also check "grant_references"). The grant's own
  # kms_key_arn wins over the resource's key; key use goes through the service (kms:ViaService),
  # unless the application encrypts client-side and calls KMS itself.
  principal_grants = { for pk, p in var.principals : pk => [for g in p.grants : {
    kind    = g.bucket != null ? "bucket" : "table"
    arn     = g.bucket != null ? lookup(local.bucket_arns, g.bucket, null) : lookup(local.table_arns, coalesce(g.table, "-"), null)
    prefix  = g.prefix
    actions = g.actions
    kms_key_arn = g.kms_key_arn != null ? g.kms_key_arn : (
      g.bucket != null ? lookup(local.bucket_keys, g.bucket, null) : lookup(local.table_keys, coalesce(g.table, "-"), null)
    )
    kms_via_service = g.client_side_encryption ? null : (
      g.bucket != null ? "s3.${coalesce(try(var.buckets[g.bucket].region, null), var.region)}.${local.kms_suffix}" :
      "dynamodb.${try(split(":", local.table_arns[g.table])[3], var.region)}.${local.kms_suffix}"
    )
    kms_client_side_actions = g.client_side_encryption
  }] }

  missing_references = flatten([for pk, p in var.principals : [for i, g in p.grants :
    "principals[\"${pk}\"].grants[${i}] -> ${g.bucket != null ? "bucket \"${g.bucket}\"" : "table \"${coalesce(g.table, "")}\""}"
    if(g.bucket != null && !contains(keys(var.buckets), coalesce(g.bucket, "-"))) || (g.bucket == null && !contains(keys(var.tables), coalesce(g.table, "-")))
  ]])
}

check "grant_references" {
  assert {
    condition     = length(local.missing_references) == 0
    error_message = "Grants name buckets or tables that are not defined: ${join(", ", local.missing_references)}."
  }
}

module "buckets" {
  source   = "../modules/s3-bucket"
  for_each = var.buckets

  name                     = each.value.name
  region                   = coalesce(each.value.region, var.region) # per resource (AWS provider 6): DR in another region
  partition                = var.partition
  force_destroy            = each.value.force_destroy
  versioning               = each.value.versioning
  encryption               = each.value.encryption
  lifecycle_rules          = each.value.lifecycle_rules
  cors_rules               = each.value.cors_rules
  public_read_prefix       = each.value.public_read_prefix
  tls_only                 = each.value.tls_only
  min_tls_version          = each.value.min_tls_version
  deny_unencrypted_uploads = each.value.deny_unencrypted_uploads
  access_logging           = each.value.access_logging == null ? null : merge(each.value.access_logging, { target_bucket = local.log_targets[each.key] })
  log_delivery_sources     = local.log_delivery_sources[each.key]
  account_id               = var.account_id
  replication              = each.value.replication
  object_lock              = each.value.object_lock
  intelligent_tiering      = each.value.intelligent_tiering
  tags                     = { "cargohold:key" = each.key }
}

module "tables" {
  source   = "../modules/dynamodb-table"
  for_each = var.tables

  name                     = each.value.name
  region                   = coalesce(each.value.region, var.region)
  hash_key                 = each.value.hash_key
  range_key                = each.value.range_key
  billing_mode             = each.value.billing_mode
  read_capacity            = each.value.read_capacity
  write_capacity           = each.value.write_capacity
  autoscaling              = each.value.autoscaling
  global_secondary_indexes = each.value.global_secondary_indexes
  local_secondary_indexes  = each.value.local_secondary_indexes
  point_in_time_recovery   = each.value.point_in_time_recovery
  ttl_attribute            = each.value.ttl_attribute
  encryption               = each.value.encryption
  stream_view_type         = each.value.stream_view_type
  deletion_protection      = each.value.deletion_protection
  table_class              = each.value.table_class
  tags                     = { "cargohold:key" = each.key }
}

module "principals" {
  source   = "../modules/iam-principal"
  for_each = var.principals

  name                     = each.value.name
  kind                     = each.value.kind
  path                     = each.value.path
  assume_role_services     = each.value.assume_role_services
  assume_role_arns         = each.value.assume_role_arns
  assume_role_external_id  = each.value.assume_role_external_id
  permissions_boundary_arn = each.value.permissions_boundary_arn
  grants                   = local.principal_grants[each.key]
  tags                     = { "cargohold:key" = each.key }
}
