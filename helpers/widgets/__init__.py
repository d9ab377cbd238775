"""Interactive explorers, one per notebook topic. Display one by leaving it as the last line of a cell."""
