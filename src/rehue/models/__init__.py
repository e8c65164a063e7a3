"""Generators and discriminators, built by name from one registry."""

from rehue.models.io import ModelCard, load_model, save_model, shipped_models
from rehue.models.registry import create_model, list_models, model_entry, register_model

__all__ = ["ModelCard", "create_model", "list_models", "load_model", "model_entry", "register_model",
           "save_model", "shipped_models"]
