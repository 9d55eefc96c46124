"""`segcli generate`: deterministic, shop-like data that the engine reads cleanly."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from segcli.engine.db import connect


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(cli: Any, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed in ((a, "1"), (b, "1"), (c, "2")):
        run = cli("generate", "--customers", "300", "--seed", seed, "--out", path)
        assert run.exit_code == 0, run.stderr
        assert run.stderr.startswith("wrote ")
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_shape_of_the_data(cli: Any, tmp_path: Path) -> None:
    sales, items = tmp_path / "sales.parquet", tmp_path / "items.parquet"
    assert (
        cli("generate", "--customers", "3000", "--seed", "5", "--out", sales, "--items", items).exit_code == 0
    )
    con = connect()
    q = lambda sql: con.execute(sql.replace("SALES", f"'{sales}'").replace("ITEMS", f"'{items}'")).fetchall()  # noqa: E731
    (customers, rows, anonymous, one_timers, heavy) = q(
        "SELECT count(DISTINCT customer_id), count(*), count(*) FILTER (customer_id IS NULL), "
        "(SELECT count(*) FROM (SELECT customer_id FROM SALES GROUP BY 1 HAVING count(*) = 1)), "
        "(SELECT count(*) FROM (SELECT customer_id FROM SALES GROUP BY 1 HAVING count(*) >= 20)) FROM SALES"
    )[0]
    assert customers > 2900  # a few customers' only sale may be anonymous
    assert 3.5 < rows / 3000 < 6.5  # about five sales per customer
    assert 0.01 < anonymous / rows < 0.03
    assert one_timers / customers > 0.4
    assert heavy > 30
    statuses = {s for (s,) in q("SELECT DISTINCT status FROM SALES")}
    assert {"completed", " COMPLETED", "Partial", "pending", "CANCELLED", "refunded", "on_hold"} <= statuses
    assert q("SELECT count(*) FROM SALES WHERE total_amount < 0")[0][0] > 0  # refund rows
    assert q("SELECT count(*) FROM SALES WHERE amount_refunded > 0")[0][0] > 0
    assert {b for (b,) in q("SELECT DISTINCT business_id FROM SALES")} == {1, 2, 3}
    assert len(q("SELECT DISTINCT storefront_id FROM SALES")) == 6
    assert len(q("SELECT DISTINCT channel FROM SALES")) == 4
    first, last = q("SELECT min(sale_date)::DATE, max(sale_date)::DATE FROM SALES")[0]
    assert (last - first).days > 700  # two years
    assert str(last) == "2026-11-20"
    # items add up to their sale exactly, and come from six categories
    assert (
        q(
            "SELECT count(*) FROM (SELECT sale_id, sum(line_total) t FROM ITEMS GROUP BY 1) JOIN SALES USING (sale_id) WHERE t <> total_amount"
        )[0][0]
        == 0
    )
    assert len(q("SELECT DISTINCT category FROM ITEMS")) == 6
    # median amount in a plausible shop range, with a long right tail
    median, p99 = q(
        "SELECT median(total_amount), quantile_cont(total_amount, 0.99) FROM SALES WHERE total_amount > 0"
    )[0]
    assert 30 < median < 90
    assert p99 > 4 * median


def test_generated_data_reports_cleanly(cli: Any, tmp_path: Path) -> None:
    sales = tmp_path / "sales.csv"
    cli("generate", "--customers", "2000", "--seed", "3", "--out", sales)
    run = cli("segment", "--source", sales, "--as-of", "2026-11-20", "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    assert data["total_customers"] > 100
    assert all(s["customer_count"] > 0 for s in data["segments"][:2])
    assert data["data_quality"]["unknown_status"].keys() == {"on_hold", "refunded"}


def test_generate_rejects_bad_arguments(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert cli("generate", "--customers", "0", "--out", out / "x.csv").exit_code == 2
    run = cli("generate", "--out", out / "x.json")
    assert (run.exit_code, run.stderr) == (
        2,
        f"Invalid --out '{out / 'x.json'}'. Must end in .csv or .parquet\n",
    )
    assert not list(out.iterdir())
