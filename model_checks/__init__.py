"""vehicle-ds model checks: robustness and security checks of autonomous-driving models."""
