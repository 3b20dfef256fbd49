"""Layer 0, the run contract: settings and profiles, the run folder, the example format, display and environment."""
