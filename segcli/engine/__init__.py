"""The segcli library: sources, SQL, segment tables, cache and the report model.

Nothing here imports typer, rich, fpdf or fastapi.
"""
