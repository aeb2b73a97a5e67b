"""The recurrent cells, one module each, and the registry (registry.CELLS) that models and checks read."""
from .registry import CELLS, Cell, get_cell
