"""TerraformStack classes and the cdktf app built from an AppPlan (generators.app_builder)."""
