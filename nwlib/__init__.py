"""nwlib."""
