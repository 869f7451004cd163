"""Bindings (see docs)."""
__all__ = []
