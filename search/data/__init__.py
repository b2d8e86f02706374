"""The generated registry table (see search/tools/generate_registry.py)."""
