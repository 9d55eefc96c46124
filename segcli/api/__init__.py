"""The HTTP app: `create_app(settings)` builds everything; `segcli serve` runs it under uvicorn."""
