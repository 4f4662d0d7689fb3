"""Terraform state of one stack: local by default, S3 with native locking when the org asks."""

from __future__ import annotations

from pathlib import Path

from cdktf import LocalBackend, S3Backend, TerraformStack

from generators.provision.app_builder import StateConfig


def configure_state(stack: TerraformStack, state: StateConfig, stack_dir: Path) -> None:
    """`stack_dir` is where the stack's cdk.tf.json ends up and `cdktf deploy` runs terraform."""
    if state.backend == "local":
        # Relative, so the project folder can move (or be checked out elsewhere) with its state.
        LocalBackend(stack, path=state.backend_path(stack_dir))
        return
    if state.bucket is None:
        raise ValueError(f"state {state.path}: the s3 backend needs a bucket")
    backend = S3Backend(stack, bucket=state.bucket, key=state.path, region=state.region, encrypt=True)
    # S3 native state locking (a lock object next to the state, no DynamoDB table): Terraform
    # >= 1.10, https://developer.hashicorp.com/terraform/language/backend/s3#state-locking.
    # cdktf 0.21's S3Backend has no property for it yet, hence the override.
    backend.add_override("use_lockfile", True)
