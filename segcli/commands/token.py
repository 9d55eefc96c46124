"""`segcli token create|list|revoke`: the API tokens, each tied to one business."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from segcli.commands.common import resolve_settings
from segcli.commands.options import ConfigOpt, TokensFileOpt
from segcli.engine.tokens import TokenFile

NameOpt = Annotated[
    str | None,
    typer.Option(
        "--name", help="A unique name to list and revoke it by. \\[default: token-<n>]", show_default=False
    ),
]


def _token_file(tokens_file: str | None, config: str | None) -> TokenFile:
    return TokenFile(resolve_settings(config, None, tokens_file=tokens_file).resolved_tokens_file)


def create(
    business_id: Annotated[int, typer.Option("--business-id", help="The business the token may read.")],
    name: NameOpt = None,
    tokens_file: TokensFileOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create a token for one business and print it (shown this once; only its hash is stored)."""
    store = _token_file(tokens_file, config)
    token, record = store.create(business_id, name)
    print(token)
    print(
        f"Created token '{record.name}' for business {record.business_id} in {store.path}. "
        "It is shown only this once: store it now.",
        file=sys.stderr,
    )


def list_tokens(tokens_file: TokensFileOpt = None, config: ConfigOpt = None) -> None:
    """List the tokens: name, business, created, revoked (never the token or its hash)."""
    store = _token_file(tokens_file, config)
    records = store.current().records
    if not records:
        print(f"No tokens in {store.path}", file=sys.stderr)
        return
    rows = [("NAME", "BUSINESS", "CREATED", "REVOKED")]
    rows += [(r.name, str(r.business_id), r.created, r.revoked or "-") for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])


def revoke(
    name: Annotated[str, typer.Argument(help="The token's name (see `segcli token list`).")],
    tokens_file: TokensFileOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Revoke a token: a running server refuses it from its next request on."""
    record = _token_file(tokens_file, config).revoke(name)
    print(f"Token '{record.name}' (business {record.business_id}) revoked {record.revoked}", file=sys.stderr)
