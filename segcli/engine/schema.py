"""The canonical columns of the data contract (SPEC section 1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "id", "int", "date", "money", "text"
    required: bool


SALES_COLUMNS = (
    Column("sale_id", "id", True),
    Column("business_id", "int", False),
    Column("customer_id", "id", True),
    Column("sale_date", "date", True),
    Column("total_amount", "money", True),
    Column("amount_refunded", "money", False),
    Column("status", "text", True),
    Column("storefront_id", "int", False),
    Column("channel", "text", False),
    Column("currency", "text", False),
)
ITEM_COLUMNS = (
    Column("sale_id", "id", True),
    Column("category", "text", True),
    Column("line_total", "money", True),
)
CANONICAL_NAMES = tuple(dict.fromkeys(c.name for c in SALES_COLUMNS + ITEM_COLUMNS))
