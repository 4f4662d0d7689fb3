"""TerraformStack classes and the cdktf app built from an AppPlan (generators.provision.app_builder)."""
