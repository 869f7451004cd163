"""Bindings of include/berg/metric.h."""
__all__ = []
