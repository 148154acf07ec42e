"""The benchmark's CPU share per item: the workers', the database's and the client's."""

from __future__ import annotations

import os
import time

import pytest

from annotator.bench import cpu
from annotator.bench.cpu import CpuMeter, CpuShare, cpu_seconds_of_stat, process_cpu_seconds
from annotator.bench.report import table
from annotator.bench.run import Result

# the fields of /proc/<pid>/stat up to stime; utime 250 ticks, stime 50
STAT = (
    "4242 (gunicorn: worker [annotator:create_app()]) S 4200 4200 4200 0 -1 4194624 "
    "9000 0 12 0 250 50 0 0 20 0 1 0 100 200000000 30000"
)


def test_the_cpu_time_is_read_after_a_command_name_with_spaces_and_brackets():
    assert cpu_seconds_of_stat(STAT) == pytest.approx(300 / cpu.CLOCK_TICKS)


def test_this_process_cpu_time_is_read_from_proc():
    spent = process_cpu_seconds(os.getpid())
    assert spent is not None
    times = os.times()
    assert abs(spent - (times.user + times.system)) < 0.1


def test_a_process_that_is_gone_has_no_cpu_time():
    assert process_cpu_seconds(2**22 + 1) is None  # above Linux's largest pid


def test_the_share_counts_what_each_side_spent_per_item(monkeypatch):
    readings = {
        "start": {1: 10.0, 2: 20.0, 7: 5.0, 8: 1.0},
        "end": {1: 11.0, 2: 21.5, 7: 5.4, 9: 0.2},  # 8 left, 9 came during the phase
    }
    moment = {"now": "start"}
    monkeypatch.setattr(cpu, "process_cpu_seconds", lambda pid: readings[moment["now"]].get(pid))
    clock = iter([100.0, 100.5])
    monkeypatch.setattr(cpu.time, "process_time", lambda: next(clock))
    database = {"start": [7, 8], "end": [7, 9]}
    meter = CpuMeter([1, 2], lambda: database[moment["now"]])
    meter.start()
    moment["now"] = "end"
    share = meter.share(items=500)
    assert share.workers_ms == pytest.approx(2.5 * 1000 / 500)
    assert share.database_ms == pytest.approx((0.4 + 0.2) * 1000 / 500)
    assert share.client_ms == pytest.approx(0.5 * 1000 / 500)
    assert share.total_ms == pytest.approx(5.0 + 1.2 + 1.0)


def test_without_database_processes_the_database_share_is_none():
    meter = CpuMeter([os.getpid()])
    meter.start()
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    share = meter.share(items=10)
    assert share.database_ms is None
    assert share.client_ms > 0


def test_the_ceiling_is_the_cores_over_the_cpu_per_item():
    share = CpuShare(workers_ms=8.8, database_ms=2.7, client_ms=1.1)
    assert share.ceiling(2) == pytest.approx(2000 / 12.6)
    assert CpuShare(0.0, None, 0.0).ceiling(2) == 0.0


def test_the_table_shows_the_share_and_its_ceiling():
    result = Result("postgresql", 1000)
    result.figures["m2_cpu"] = CpuShare(workers_ms=8.8, database_ms=2.75, client_ms=1.1)
    cores = os.cpu_count() or 1
    ceiling = cores * 1000 / 12.65
    row = "| M2 CPU ms per save: workers / database / client | 8.80 / 2.75 / 1.10 "
    assert f"{row}(at most {ceiling:.0f}/s on {cores} cores) |" in table([result])
    sqlite = Result("sqlite", 1000)
    sqlite.figures["m2_cpu"] = CpuShare(workers_ms=6.0, database_ms=None, client_ms=1.0)
    assert "| 6.00 / - / 1.00 (at most" in table([sqlite])
