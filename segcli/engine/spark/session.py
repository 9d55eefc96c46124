"""The SparkSession a report runs in: local or a cluster master (PySpark), or Spark Connect."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING

from segcli.engine.db import first_line
from segcli.engine.errors import SegcliError, SourceError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from segcli.engine.settings import Settings

INSTALL_HINT = "pip install 'segcli[spark]'"


class SparkUnavailable(SegcliError):
    """PySpark or Java is missing, or Spark did not start: exit status 1."""


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and os.path.isfile(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def spark_session(settings: Settings) -> SparkSession:
    """The session the settings describe (Spark reuses a running one in this process)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(f"--engine spark needs PySpark 4: {INSTALL_HINT}") from None
    builder = SparkSession.builder.appName("segcli")
    if settings.spark_remote:
        builder = builder.remote(settings.spark_remote)
    elif os.environ.get("PYSPARK_GATEWAY_PORT"):
        pass  # launched by spark-submit (or inside a Spark driver): its master and conf stand
    else:
        if not _java_found():
            raise SparkUnavailable(
                "--engine spark needs Java 17 or later (java on PATH or JAVA_HOME) to run Spark here; "
                "or use --spark-remote sc://HOST:PORT"
            )
        log_config = resources.files("segcli.engine.spark").joinpath("log4j2.properties")
        builder = builder.master(settings.spark_master).config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config}"
        )
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in settings.spark_conf.items():
        builder = builder.config(key, value)
    local = not settings.spark_remote and not os.environ.get("PYSPARK_GATEWAY_PORT")
    try:
        with warnings.catch_warnings(), _jvm_stderr_to_log(local):
            # Spark Connect's client warns about pandas versions on stderr
            warnings.filterwarnings(
                "ignore", message="PySpark does not yet fully support", category=FutureWarning
            )
            return builder.getOrCreate()
    except ImportError as exc:  # Spark Connect needs grpcio and friends (pyspark[connect])
        raise SparkUnavailable(f"--spark-remote needs Spark Connect's packages: {first_line(exc)}") from None
    except Exception as exc:
        raise SparkUnavailable(f"Spark did not start: {first_line(exc)}") from None


def jvm_log_path() -> str:
    """Where a local Spark driver's own stderr goes (one file per user, appended)."""
    return os.path.join(tempfile.gettempdir(), f"segcli-spark-{os.getuid()}.log")


@contextmanager
def _jvm_stderr_to_log(launching: bool) -> Iterator[None]:
    """While a local JVM is launched, point file descriptor 2 at a log file the JVM keeps.

    stderr carries segcli's one-line messages only; the JVM prints start-up notices there
    (module warnings, PySpark's log-level hint) before any log configuration applies.
    """
    from pyspark import SparkContext

    if not launching or SparkContext._active_spark_context is not None:
        yield
        return
    log = open(jvm_log_path(), "ab")  # noqa: SIM115 (closed below; the JVM keeps its own descriptor)
    saved = os.dup(2)
    try:
        os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        log.close()


@contextmanager
def spark_errors(label: str) -> Iterator[None]:
    """Turn a Spark error inside the block into a one-line SourceError naming `label`."""
    from pyspark.errors import PySparkException

    try:
        yield
    except PySparkException as exc:
        raise SourceError(f"{label}: {first_line(exc)}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("py4j"):
            raise SourceError(f"{label}: {first_line(exc)}") from exc
        raise
