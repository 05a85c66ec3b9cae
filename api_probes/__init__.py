"""vehicle-ds API probes: authentication, authorization and data-exposure probes of vehicle platforms."""
