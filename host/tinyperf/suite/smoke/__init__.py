"""Smoke sets: small real-input datasets built only from what package registries ship."""
