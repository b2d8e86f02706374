"""The generated registry table (see tools/generate_registry.py)."""
