"""`segcli.Report`: what `segcli.segment` returns, a view of the engine's report with the request's filters.

The engine's `Report` dataclass (engine/report.py) stays the model every renderer, the cache
and the HTTP app share; this wrapper adds the library's views: the JSON body as a dict or text,
the segments as an Arrow table, CSV and PDF files (through the CLI's renderers, written
atomically) and HTML for notebooks.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import InvalidParameter

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.comparison import Comparison
    from segcli.engine.params import ReportParams
    from segcli.engine.report import DataQuality, Period
    from segcli.engine.report import Report as ReportModel
    from segcli.render import Renderer


class Report:
    """A segmentation report: `to_dict()`, `to_json()`, `segments` (Arrow), `to_csv()`, `to_pdf()`, HTML."""

    __slots__ = ("model", "params")

    def __init__(self, model: ReportModel, params: ReportParams | None = None) -> None:
        self.model = model  # the engine's report: whole and unfiltered, exact Decimal sums
        self.params = params  # the segment filters applied to every view

    # the figures ---------------------------------------------------------------

    @property
    def method(self) -> str:
        return self.model.method

    @property
    def period(self) -> Period:
        return self.model.period

    @property
    def insights(self) -> dict[str, str | None]:
        """The four insights by name (a segment name, or None)."""
        return self.model.insights.to_dict()

    @property
    def data_quality(self) -> DataQuality:
        return self.model.data_quality

    @property
    def comparison(self) -> Comparison | None:
        """The comparison with the previous window (with `compare=True`), filtered like the segments."""
        return self.model.shown_comparison(self.params)

    @property
    def warnings(self) -> list[str]:
        """The report's warnings (`data.warnings` of the body), if any."""
        warnings = self.to_dict()["data"].get("warnings") or []
        return [str(w) for w in warnings]

    @property
    def segments(self) -> pyarrow.Table:
        """One row per shown segment, the JSON body's fields as columns (exact decimals)."""
        return segments_table(self.model, self.params)

    # the views -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON body (`segcli segment --format json`, the HTTP success body) with exact Decimal numbers."""
        return self.model.to_body(self.params)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The JSON text `segcli segment --format json` prints; written atomically to `path` if given."""
        from segcli.render.json import report_json

        data = report_json(self.model, self._params())
        if path is not None:
            _write(path, data)
        return data.decode("utf-8")

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """The CSV file `--format csv` writes (one row per segment; the migration with `compare=True`)."""
        from segcli.render.csv import CsvRenderer

        self._render(CsvRenderer(), path)

    def to_pdf(self, path: str | os.PathLike[str], generated_at: datetime | None = None) -> None:
        """The PDF report `--format pdf` writes; `generated_at` fixes the printed moment (default: now)."""
        from segcli.render.pdf import PdfRenderer

        self._render(PdfRenderer(generated_at), path)

    def _repr_html_(self) -> str:
        from segcli.render.html import report_html

        return report_html(self.model, self.params, self.warnings)

    def __repr__(self) -> str:
        p = self.model.period
        shown = len(self.model.shown_segments(self.params))
        return (
            f"<segcli.Report {self.model.method} business {self.model.business_id} "
            f"{p.start_date.isoformat()}..{p.end_date.isoformat()}: "
            f"{self.model.total_customers:,} customers, {shown} segments>"
        )

    def _params(self) -> ReportParams:
        from segcli.engine.params import ReportParams

        return self.params if self.params is not None else ReportParams(method=self.model.method)

    def _render(self, renderer: Renderer, path: str | os.PathLike[str]) -> None:
        import io

        buffer = io.BytesIO()
        renderer.write(self.model, self._params(), buffer)
        _write(path, buffer.getvalue())


def _write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a whole file atomically, or the CLI's error for a folder that does not exist."""
    from segcli.engine.atomic import atomic_write

    folder = Path(path).parent
    if str(folder) and not folder.is_dir():
        raise InvalidParameter(f"Invalid output: folder {folder} does not exist")
    with atomic_write(path) as out:
        out.write(data)


def segments_table(model: ReportModel, params: ReportParams | None = None) -> pyarrow.Table:
    """The shown segments as an Arrow table: names, counts, exact decimal figures, scores, actions."""
    import pyarrow as pa

    shown = model.shown_segments(params)
    scores = [s.scores or (None, None, None) for s in shown]
    columns: dict[str, pyarrow.Array] = {
        "segment_name": pa.array([s.name for s in shown], pa.string()),
        "segment_code": pa.array([s.code for s in shown], pa.string()),
        "description": pa.array([s.description for s in shown], pa.string()),
        "customer_count": pa.array([s.customer_count for s in shown], pa.int64()),
        "total_revenue": pa.array([s.total_revenue for s in shown], pa.decimal128(38, 2)),
        "average_order_value": pa.array([s.average_order_value for s in shown], pa.decimal128(38, 2)),
        "recency_score": pa.array([r for r, _, _ in scores], pa.int8()),
        "frequency_score": pa.array([f for _, f, _ in scores], pa.int8()),
        "monetary_score": pa.array([m for _, _, m in scores], pa.int8()),
        "avg_days_since_last_purchase": pa.array(
            [s.avg_days_since_last_purchase for s in shown], pa.decimal128(38, 1)
        ),
        "avg_purchase_frequency": pa.array([s.avg_purchase_frequency for s in shown], pa.decimal128(38, 1)),
        "avg_total_spend": pa.array([s.avg_total_spend for s in shown], pa.decimal128(38, 2)),
        "recommended_actions": pa.array([list(s.actions) for s in shown], pa.list_(pa.string())),
    }
    if any(s.facet is not None for s in model.segments):
        columns["facet"] = pa.array([s.facet for s in shown], pa.string())
    return pa.table(columns)
