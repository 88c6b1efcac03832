"""Backends read a finished Graph. Only `backends.keras` imports TensorFlow, and only when used."""
