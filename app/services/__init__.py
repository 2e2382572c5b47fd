"""The domain: no HTTP here. Services flush; the caller's unit of work commits once."""
