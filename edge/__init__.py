"""vehicle-ds edge agent: decode, classify and enforce vehicle-data handling on CAN / CAN FD."""
