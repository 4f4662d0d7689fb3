"""What `genai-finops init` writes into a company's repository (generators/project_init.py fills
in the manifests directory and the first team). Shipped as package data."""
