"""Provisioning without cdktf: what `synth`, `stacks` and `preflight` decide before jsii starts.

- `app_builder`: the stacks to build, their regions, state and dependencies (an `AppPlan`).
- `synth_cache`: which synthesized stacks are unchanged and can be copied.
- `preflight`: read-only checks of the live account before the first deploy.
- `kube_access`: the Kubernetes side of preflight (EKS token, namespaces, RBAC reviews).
The stacks and constructs that consume an `AppPlan` live in `stacks/` and `modules/`.
"""
