"""The pipeline's outputs, shipped as package data `climate_atlas.precomputed` (see pyproject.toml)."""
