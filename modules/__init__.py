"""CDKTF constructs, one concern per file. Each takes typed, already-validated model objects
(generators.model) and exposes what others need as attributes. Construct ids derive from
manifest names, never list positions, so reordering a manifest never replaces a resource."""
