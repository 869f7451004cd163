"""Bindings of include/berg/fisher.h."""
__all__ = []
