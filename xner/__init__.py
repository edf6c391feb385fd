"""xner: named-entity training data for low-resource languages by annotation projection."""

__version__ = "0.1.0"
