"""monitor: watches the Italian tech press for tracked people and companies."""

__version__ = "0.1.0"
