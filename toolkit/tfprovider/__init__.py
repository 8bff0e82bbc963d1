"""A schema-true stand-in for registry.terraform.io/hashicorp/aws 6.66.0, for loopback emulators only.

Terraform runs the production modules with it exactly as it would with HashiCorp's provider: the
schema served is the real 6.66.0 schema (terraform/provider-schema/), the plan follows the provider
protocol (computed values unknown, replace-forcing changes marked), and every create, read, update,
delete and import goes to the emulator through boto3. It refuses any endpoint that is not loopback.

- `schema`: the committed schema as protobuf, and state values shaped by it.
- `resources`: one handler per resource type (what to call in the emulator).
- `server`: the tfplugin6 gRPC service and the go-plugin handshake.
- `mirror`: the filesystem mirror Terraform installs it from.
"""
