"""The test platform's routes, one module per resource."""
