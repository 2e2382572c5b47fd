"""HTTP: one module per resource. Parse, call one service, return."""
