"""Couplings and beta functions (berg/couplings.h)."""

__all__: list = []
