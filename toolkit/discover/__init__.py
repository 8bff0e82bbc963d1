"""`cargohold discover`: adopt an existing account's buckets, tables and principals.

`read.discover` turns the live account (read once by `toolkit.audit.inventory`) into config.yaml terms,
with remarks on what cannot be expressed and what the first apply will harden; `write` renders the
config fragment and the Terraform import blocks.
"""
