"""The migration engine (local files into S3, database rows rewritten). Built in its own issue."""
