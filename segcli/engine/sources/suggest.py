"""Likely matches for missing canonical columns among an export's own column names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

# canonical column -> names real exports give it (compared lower-case, letters and digits only)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sale_id": ("orderid", "order", "ordernumber", "orderno", "ordername", "invoice", "invoiceno",
                "invoicenumber", "invoiceid", "transactionid", "saleid", "id", "name", "number",
                "bestellnummer", "bestellung", "rechnungsnummer", "commande", "pedido", "factura"),
    "customer_id": ("customer", "customerid", "client", "clientid", "customerno", "customernumber",
                    "email", "customeremail", "buyer", "userid", "accountid", "kunde", "kundennummer",
                    "kundenid", "cliente"),
    "sale_date": ("createdat", "created", "orderdate", "date", "invoicedate", "saledate", "paidat",
                  "purchasedate", "transactiondate", "timestamp", "orderedat", "datum", "bestelldatum",
                  "fecha"),
    "total_amount": ("total", "amount", "price", "totalprice", "grandtotal", "ordertotal", "revenue",
                     "totalamount", "sum", "value", "subtotal", "betrag", "summe", "gesamt", "gesamtbetrag",
                     "montant", "importe"),
    "status": ("state", "orderstatus", "financialstatus", "paymentstatus", "salestatus", "fulfillmentstatus",
               "estado", "statut"),
    "business_id": ("business", "tenant", "tenantid", "shopid", "companyid"),
    "storefront_id": ("storefront", "store", "storeid", "shop", "location", "locationid"),
    "amount_refunded": ("refunded", "refund", "refundamount", "refundedamount", "totalrefunded"),
    "channel": ("source", "saleschannel", "sourcename", "medium"),
    "currency": ("currencycode", "curr"),
    "category": ("productcategory", "producttype", "type", "department"),
    "line_total": ("linetotal", "lineamount", "linetotalprice", "itemtotal", "lineprice"),
}  # fmt: skip


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _arg(name: str) -> str:
    """A --map argument quoted for a shell when it needs it."""
    return f"'{name}'" if re.search(r"[^A-Za-z0-9_=.-]", name) else name


def suggest(missing: Sequence[str], found: Iterable[str], used: Iterable[str] = ()) -> dict[str, str]:
    """canonical -> the source column it likely is; each source column suggested at most once."""
    free = [name for name in found if name not in set(used)]
    by_norm: dict[str, str] = {}
    for name in free:
        by_norm.setdefault(_norm(name), name)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for canonical in missing:  # synonyms first, in the table's order of preference
        for synonym in (_norm(canonical), *(_norm(s) for s in SYNONYMS.get(canonical, ()))):
            match = by_norm.get(synonym)
            if match is not None and match not in taken:
                out[canonical] = match
                taken.add(match)
                break
    for canonical in missing:  # then spelling closeness
        if canonical in out:
            continue
        pool = {n: name for n, name in by_norm.items() if name not in taken}
        close = difflib.get_close_matches(_norm(canonical), list(pool), n=1, cutoff=0.75)
        if close:
            out[canonical] = pool[close[0]]
            taken.add(pool[close[0]])
    return out


def missing_message(label: str, missing: Sequence[str], found: Sequence[str], used: Iterable[str]) -> str:
    """One line naming every missing required column, the file's columns and likely --map pairs."""
    plural = "s" if len(missing) > 1 else ""
    text = f"{label}: missing required column{plural} {', '.join(repr(m) for m in missing)}"
    columns = ", ".join(found) if found else "none"
    hints = suggest(missing, found, used)
    if not hints:
        how = f"SOURCE={missing[0]}" if len(missing) == 1 else "SOURCE=CANONICAL for each"
        return f"{text} (columns found: {columns}; map one with --map {how})"
    pairs = "; ".join(
        f"{src} could be {canonical}: --map {_arg(f'{src}={canonical}')}" for canonical, src in hints.items()
    )
    return f"{text} (columns found: {columns}); {pairs}"
