"""clamcoach: a clamshell-exercise coach that measures from one camera, offline."""

__version__ = "0.1.0"
__all__ = ["__version__"]
