"""The ERG as a flow in the scale (berg/erg.h): schemes and ensemble flows in ln Lambda."""

__all__: list = []
