"""Tests that the documentation runs and stays complete."""
