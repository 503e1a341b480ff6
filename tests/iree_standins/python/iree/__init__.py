"""Stand-in for IREE's Python package: only what random weights use."""
