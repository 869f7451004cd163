"""Bindings of include/berg/dictionary.h."""
__all__ = []
