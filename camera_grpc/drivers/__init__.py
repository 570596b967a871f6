"""Camera drivers: the abstract interface and its implementations."""
