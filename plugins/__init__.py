"""Agnozys built-in plugins; each registers through the `agnozys` entry points."""
