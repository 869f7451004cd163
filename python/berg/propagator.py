"""Bindings of include/berg/propagator.h."""
__all__ = []
