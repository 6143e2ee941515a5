"""Shared history in a bucket: a real S3 server (moto's) on 127.0.0.1, started by the test.

Run by ``tox -e s3`` (LOGTRACE_SUITES=s3); skipped by the default run.
"""

from __future__ import annotations

import importlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_compact import tree
from test_publish import PUBLISHER, host_history, merged, publisher, publisher_run, view

import logtrace
from logtrace.read.compact import compact
from logtrace.read.files import find_compacted, find_files
from logtrace.read.publish import publish

pytestmark = pytest.mark.s3
SECRET = "not-a-real-secret-4f1c"


def need(module: str) -> Any:
    """Import a module the suite needs: skipped without it, failed with LOGTRACE_REQUIRE_TOOLS."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("LOGTRACE_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{module} is missing (pip install 'logtrace[s3]' 'moto[server]')")
        pytest.skip(f"{module} is missing (pip install 'logtrace[s3]' 'moto[server]')")


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """An S3 server on 127.0.0.1 (any free port), its endpoint and credentials in the env."""
    need("s3fs")
    server_module = need("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_S3=f"http://{host}:{port}",
    )
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def bucket(s3: str, request: pytest.FixtureRequest) -> str:
    """A fresh bucket for one test: ``s3://<name>/history``."""
    import fsspec

    name = "t-" + request.node.name.replace("_", "-")[:40].lower().strip("-")
    fsspec.filesystem("s3", endpoint_url=s3, skip_instance_cache=True).mkdir(name)
    return f"s3://{name}/history"


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOGTRACE_")}


def test_two_hosts_publishing_at_once_to_a_bucket(tmp_path: Path, bucket: str) -> None:
    """Two hosts publishing into one bucket at once: the bucket holds one whole history."""
    roots = [tmp_path / "a" / "logtrace", tmp_path / "b" / "logtrace"]
    host_history(roots[0], "app-1", seed=1)
    host_history(roots[1], "app-2", seed=2)
    expected = merged(*(view(r) for r in roots))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(r), bucket, "1"],
            env=child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for r in roots
    ]
    for child in children:
        assert child.wait(timeout=300) == 0
    assert view(bucket) == expected
    assert all(find_compacted(r) == [] for r in roots)


def test_killed_mid_upload_loses_and_doubles_nothing(tmp_path: Path, bucket: str) -> None:
    """Publishing killed (SIGKILL) mid-upload: local plus bucket is whole, then the bucket."""
    root = tmp_path / "logtrace"
    host_history(root, "app-1", seed=3, hours=8)
    before = view(root)
    # How long a whole run takes here (a copy, to another prefix): the kills fall inside it.
    shutil.copytree(root, tmp_path / "calibration")
    whole = publisher_run(tmp_path / "calibration", bucket.replace("/history", "/calibration"))
    rng = random.Random(9)
    kills = 0
    for _ in range(10):
        child = publisher(root, bucket)
        time.sleep(rng.uniform(0.02, 0.9) * whole)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=300)
        assert view([root, bucket]) == before
        if not find_files(root) and not find_compacted(root):
            break
    assert kills >= 1
    compact(root)
    publish(root, bucket)
    assert find_compacted(root) == [] and view(bucket) == before


def test_pruned_and_unpruned_answers_from_a_bucket_are_identical(
    tmp_path: Path, bucket: str
) -> None:
    """Lookups and time windows over a bucket: pruned answers equal full scans."""
    root = tmp_path / "logtrace"
    host_history(root, "app-1", seed=6)
    compact(root, batch_bytes=1)
    publish(root, bucket)
    with logtrace.open(bucket) as reader:
        ids = [r["trace_id"] for r in reader.execute("SELECT trace_id FROM traces")]
    with logtrace.open(bucket) as pruned, logtrace.open(bucket, pruning=False) as full:
        for trace_id in ids[::4]:
            assert tree(pruned, trace_id) == tree(full, trace_id)
            assert len(pruned.trace_files) < len(full.trace_files)
    window = dict(since=None, until=None)
    with logtrace.open(bucket, **window) as whole:
        span = whole.execute("SELECT min(start_ts) AS a, max(start_ts) AS b FROM spans")[0]
    since = span["a"] + (span["b"] - span["a"]) / 2
    filters = dict.fromkeys(["until", "service", "name", "status", "min_duration_ms"])
    with (
        logtrace.open(bucket, since=since) as pruned,
        logtrace.open(bucket, since=since, pruning=False) as full,
    ):
        assert len(pruned.files) < len(full.files)
        assert pruned.query("span_percentiles_no_attr", since=since, **filters) == full.query(
            "span_percentiles_no_attr", since=since, **filters
        )
        recent = dict.fromkeys(["until", "service", "name", "status", "min_duration_ms"])
        assert pruned.query("recent_traces_no_attr", since=since, limit=100, **recent) == (
            full.query("recent_traces_no_attr", since=since, limit=100, **recent)
        )


def test_cli_reads_a_bucket_and_never_prints_credentials(
    tmp_path: Path, bucket: str, cli: Any
) -> None:
    """compact --to s3://, then ls/show/stats --dir s3://; no output ever holds the secret."""
    root = tmp_path / "logtrace"
    host_history(root, "app-1", seed=12)
    outputs = []
    done = cli("compact", "--dir", str(root), "--to", bucket, timeout=300)
    outputs.append(done)
    assert done.returncode == 0, done.stderr
    listed = cli("ls", "--dir", bucket, "--json", "-v", timeout=300)
    outputs.append(listed)
    assert listed.returncode == 0, listed.stderr
    trace_id = orjson.loads(listed.stdout)[0]["trace_id"]
    outputs.append(cli("show", "--dir", bucket, trace_id, timeout=300))
    outputs.append(cli("stats", "--dir", bucket, "--dir", str(root), timeout=300))
    missing = cli("ls", "--dir", "s3://no-such-bucket-here/x", timeout=300)
    outputs.append(missing)
    assert all(o.returncode == 0 for o in outputs[:4]), [o.stderr for o in outputs]
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert not any(SECRET in o.stdout + o.stderr for o in outputs)


def test_dask_reads_the_bucket_and_counts_the_same(tmp_path: Path, bucket: str) -> None:
    """A second engine (Dask, over s3fs) counts the spans per name as logtrace does."""
    dd = need("dask.dataframe")
    root = tmp_path / "logtrace"
    host_history(root, "app-1", seed=13)
    compact(root, batch_bytes=1)
    publish(root, bucket)
    frame = dd.read_parquet(
        f"{bucket}/day=*/spans_*.parquet",
        columns=["trace_id", "span_id", "name", "has_end", "duration_ms"],
        storage_options={"endpoint_url": os.environ["AWS_ENDPOINT_URL_S3"]},
    )
    # Fragments of one span merge on (trace_id, span_id), as in queries/spark/spans.sql.
    spans = frame.groupby(["trace_id", "span_id"]).agg({"name": "first", "has_end": "max"})
    theirs = spans.groupby("name").size().compute().to_dict()
    with logtrace.open(bucket) as reader:
        ours = {
            r["name"]: r["n"]
            for r in reader.execute("SELECT name, count(*) AS n FROM spans GROUP BY name")
        }
    assert theirs == ours and ours
