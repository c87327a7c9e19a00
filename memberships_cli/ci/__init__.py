"""Glue for CI systems; never imported by the CLI itself."""
