"""Tutela: compliance for AI infrastructure on Azure."""

__version__ = "0.1.0"
