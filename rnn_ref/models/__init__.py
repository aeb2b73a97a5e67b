"""Models built from the cells: bidirectional, stacked, 2-D grid, the sequence shapes, attention, language models."""
