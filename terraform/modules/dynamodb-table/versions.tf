terraform {
  required_version = ">= 1.5"

  required_providers {
    # >= 6.37: 6.29 added global_secondary_index.key_schema and 6.30 fixed it in dynamic blocks;
    # later 6.x releases fixed a perpetual diff on an index with a range key and index removal.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.37"
    }
  }
}
