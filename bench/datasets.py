"""The benchmark's data: synthetic sales made once by `segcli generate`, reused while unchanged.

`bench/data/manifest.json` records what made each file (customers, seed, size in bytes);
a file is reused when its entry matches, else generated again (atomically, by segcli).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SEED = 1


@dataclass(frozen=True)
class Dataset:
    key: str  # "5m", "1m-csv"
    customers: int
    fmt: str  # "parquet" or "csv"

    @property
    def filename(self) -> str:
        return f"sales_{self.key.split('-')[0]}.{self.fmt}"

    @property
    def label(self) -> str:
        return f"{self.customers:,} customers, {self.fmt.capitalize()}"


DATASETS = {
    d.key: d
    for d in (
        Dataset("100k", 100_000, "parquet"),
        Dataset("1m", 1_000_000, "parquet"),
        Dataset("5m", 5_000_000, "parquet"),
        Dataset("1m-csv", 1_000_000, "csv"),
    )
}


@dataclass(frozen=True)
class Prepared:
    dataset: Dataset
    path: Path
    sales_rows: int
    bytes: int
    generated_seconds: float | None  # None when reused


def _load_manifest(path: Path) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def prepare(datasets: list[Dataset], folder: Path, segcli: list[str], env: dict[str, str]) -> list[Prepared]:
    """Each dataset's file in `folder`, generated only when missing or not matching the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / "manifest.json"
    manifest = _load_manifest(manifest_path)
    out = []
    for dataset in datasets:
        path = folder / dataset.filename
        entry = manifest.get(dataset.filename, {})
        wanted = {"customers": dataset.customers, "seed": SEED}
        fresh = (
            path.is_file()
            and all(entry.get(k) == v for k, v in wanted.items())
            and entry.get("bytes") == path.stat().st_size
        )
        seconds = None
        if not fresh:
            print(f"generating {dataset.filename} ({dataset.customers:,} customers) ...", flush=True)
            started = time.perf_counter()
            done = subprocess.run(
                [
                    *segcli,
                    "generate",
                    "--customers",
                    str(dataset.customers),
                    "--seed",
                    str(SEED),
                    "--out",
                    str(path),
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            rows = int(done.stderr.split()[1].replace(",", ""))  # "wrote 24,518,023 sales to ..."
            manifest[dataset.filename] = {**wanted, "bytes": path.stat().st_size, "sales_rows": rows}
            tmp = manifest_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            os.replace(tmp, manifest_path)
        entry = manifest[dataset.filename]
        out.append(Prepared(dataset, path, entry["sales_rows"], entry["bytes"], seconds))
    return out
