"""The config model: load config.yaml, validate it, resolve environments, render Terraform inputs."""

from cargohold_core.config.load import load_project
from cargohold_core.config.model import Bucket, Environment, Principal, Project, StateBackend, Table
from cargohold_core.config.render import DeclaredResource, declared_resources, tfvars

__all__ = [
    "Bucket",
    "DeclaredResource",
    "Environment",
    "Principal",
    "Project",
    "StateBackend",
    "Table",
    "declared_resources",
    "load_project",
    "tfvars",
]
