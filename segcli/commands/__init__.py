"""Thin commands: parse options, build a request, call the engine, pick a renderer."""
