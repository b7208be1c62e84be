"""Boards: one Target interface, one module per board family, an explicit registry."""
from .base import MemoryBudget, Target
from .registry import all_targets, get_target

__all__ = ["MemoryBudget", "Target", "all_targets", "get_target"]
