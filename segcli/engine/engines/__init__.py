"""Engines: where the named queries of methods and checks run (one module per engine)."""
