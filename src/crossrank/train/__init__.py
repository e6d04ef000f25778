"""Training cross-encoders (needs the torch extra)."""
