"""`cargohold discover`: adopt an existing account's buckets, tables and principals.

`read.discover` turns the live account (read once by `toolkit.audit.inventory`) into config.yaml terms,
with remarks on what cannot be expressed and what the first apply will harden; `write` renders the
config fragment and the Terraform import blocks.
"""

from toolkit.discover.read import Discovered, DiscoverError, Discovery, Remark, discover
from toolkit.discover.write import full_config_text, import_blocks, imports_for, load_discovered, render_fragment

__all__ = [
    "DiscoverError",
    "Discovered",
    "Discovery",
    "Remark",
    "discover",
    "full_config_text",
    "import_blocks",
    "imports_for",
    "load_discovered",
    "render_fragment",
]
