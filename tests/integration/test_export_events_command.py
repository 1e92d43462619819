"""`manage.py export_events`: the event history to a file, pseudonymised, typed, resumable."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from read_api import event_export
from tests.integration.test_event_export import personal_history
from write_api.application import Shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_events", *args, stdout=out)
    return out.getvalue()


def test_an_export_file_in_each_format_holds_the_events_and_no_personal_value(
    shop_app: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: events read three at a time
    history = personal_history(shop_app)
    monkeypatch.setattr(event_export, "CHUNK_SIZE", 3)
    after = str(history.start)
    # when
    outputs = {
        f: run("--format", f, "--out", str(tmp_path / f"e.{f}"), "--after", after)
        for f in ("ndjson", "csv", "parquet")
    }
    full = tmp_path / "full.ndjson"
    run("--format", "ndjson", "--out", str(full), "--after", after, "--personal", "full")
    # then
    lines = [json.loads(line) for line in (tmp_path / "e.ndjson").read_text().splitlines()]
    table = pq.read_table(tmp_path / "e.parquet")
    for name in ("e.ndjson", "e.csv", "e.parquet"):
        body = (tmp_path / name).read_bytes()
        assert [v for v in history.personal if v.encode() in body] == []
    assert [v for v in history.personal if v.encode() not in full.read_bytes()] == []
    assert table.column("position").to_pylist() == [e["position"] for e in lines]
    assert table.schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("version").type == pa.int64()
    # and: the chunks were gathered into one row group (the writer holds each one's metadata)
    assert pq.ParquetFile(tmp_path / "e.parquet").metadata.num_row_groups == 1
    assert len(lines) > 3
    assert json.loads(table.column("data")[0].as_py()) == lines[0]["data"]
    assert (tmp_path / "e.csv").read_text().count("\n") == len(lines) + 1
    last = lines[-1]["position"]
    assert outputs["parquet"].endswith(f"wrote {len(lines)} events to {tmp_path}/e.parquet; "
                                       f"last position {last}\n")  # fmt: skip


def test_a_cut_export_resumes_after_its_last_complete_line(
    shop_app: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a whole export, and the same cut in the middle of a line
    history = personal_history(shop_app)
    monkeypatch.setattr(event_export, "CHUNK_SIZE", 3)
    for format_ in ("ndjson", "csv"):
        whole, cut = tmp_path / f"whole.{format_}", tmp_path / f"cut.{format_}"
        run("--format", format_, "--out", str(whole), "--after", str(history.start))
        data = whole.read_bytes()
        cut.write_bytes(data[: len(data) * 2 // 3])
        # when
        output = run("--format", format_, "--out", str(cut), "--resume")
        # then
        assert cut.read_bytes() == data
        assert output.splitlines()[-1].endswith(f"cut.{format_}; last position {_last(data)}")


def test_bad_filters_and_a_parquet_resume_are_refused(tmp_path: Path) -> None:
    out = str(tmp_path / "x.ndjson")
    with pytest.raises(CommandError, match="type"):
        run("--format", "ndjson", "--out", out, "--type", "Nope")
    with pytest.raises(CommandError, match="since: Must not be after until"):
        run("--format", "ndjson", "--out", out, "--since", "2026-02-01", "--until", "2026-01-01")
    with pytest.raises(CommandError, match="Parquet"):
        run("--format", "parquet", "--out", out, "--resume")
    assert not Path(out).exists()


def _last(export: bytes) -> int:
    line = export.splitlines()[-1].decode()
    return int(json.loads(line)["position"]) if line.startswith("{") else int(line.split(",")[0])
