"""Kehu (客户) — an open-source CRM for Chinese-speaking companies."""

__version__ = "0.1.0"
