"""The hub's routes, one module per resource; ``app.create_app`` includes every ``router``."""
