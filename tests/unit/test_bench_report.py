"""The benchmark's report names the interpreter and the processor the figures were measured
on, and how fast the machine ran during each run."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from annotator.bench import machine
from annotator.bench.machine import CpuTicks, interpreter, libpython_placement, processor
from annotator.bench.measures import Timed, passages_stored
from annotator.bench.report import table
from annotator.bench.run import Result
from annotator.services.importing import ImportReport

EXECUTABLE = "55d0c0a00000-55d0c0c00000 r-xp 00000000 08:01 1311 /usr/bin/python3.11"
SHARED_CORE = (
    "7f3a1c000000-7f3a1c400000 r-xp 00100000 08:01 2422 "
    "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"
)
ANONYMOUS = "7ffd5e1f0000-7ffd5e211000 rw-p 00000000 00:00 0"
LIBC = "7f3a1b000000-7f3a1b200000 r-xp 00000000 08:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6"


def test_a_core_in_a_shared_libpython_is_named() -> None:
    maps = "\n".join([EXECUTABLE, ANONYMOUS, SHARED_CORE, LIBC])
    assert libpython_placement(maps) == "shared libpython (libpython3.11.so.1.0)"


def test_an_executable_that_maps_no_libpython_has_the_core_built_in() -> None:
    in_a_folder_of_that_name = "7f00-7f10 r-xp 00000000 08:01 7 /opt/libpython-tools/python3"
    maps = "\n".join([EXECUTABLE, ANONYMOUS, LIBC, in_a_folder_of_that_name])
    assert libpython_placement(maps) == "libpython built into the executable"


def test_without_a_memory_map_the_placement_is_unknown() -> None:
    assert libpython_placement(None) == "libpython placement unknown"


def test_the_running_interpreter_is_described_by_version_and_path() -> None:
    described = interpreter()
    assert sys.executable in described
    assert f"{sys.version_info.major}.{sys.version_info.minor}." in described
    assert "placement unknown" not in described  # Linux has /proc/self/maps


def test_the_table_ends_with_the_interpreter_when_given() -> None:
    result = Result("sqlite", 1000)
    result.figures["m2"] = Timed(seconds=2.0, items=600, latencies=[0.01, 0.02])
    named = table([result], 100.0, "CPython 3.11.2 (/usr/bin/python3), libpython built in")
    assert named.splitlines()[-1] == (
        "interpreter: CPython 3.11.2 (/usr/bin/python3), libpython built in"
    )
    assert "| M2 saves/s (claim tags/s) | 300 (0) |" in named
    assert "interpreter:" not in table([result], 100.0)


def test_the_table_shows_each_team_page_and_its_growth() -> None:
    small, large = Result("sqlite", 1000), Result("sqlite", 10000)
    small.figures["m5"] = {"dashboard": Timed(latencies=[0.010, 0.020, 0.012])}
    large.figures["m5"] = {
        "dashboard": Timed(latencies=[0.030, 0.040, 0.036]),
        "outlet report": Timed(latencies=[0.1], errors=1),
        "agreement": Timed(errors=6),
    }
    rendered = table([small, large])
    assert "| M5 dashboard p50 / max ms | 12.0 / 20.0 | 36.0 / 40.0 |" in rendered
    assert "| M5 outlet report p50 / max ms | - | 100.0 / 100.0, 1 failed |" in rendered
    assert "| M5 agreement p50 / max ms | - | 6 failed |" in rendered
    assert "m5 dashboard p50 x3.00" in rendered.splitlines()[-1]
    assert "m5 outlet report" not in rendered.splitlines()[-1]


def test_the_table_shows_the_finished_study_and_its_growth() -> None:
    small, large = Result("postgresql", 1000), Result("postgresql", 10000)
    small.figures |= {
        "m6_labels": Timed(120360, 6.0, 340.4),
        "m6": {"agreement": Timed(latencies=[0.5, 0.6, 0.7])},
    }
    large.figures |= {
        "m6_labels": Timed(120360, 8.0, 352.0),
        "m6": {"agreement": Timed(latencies=[0.6, 0.6, 0.6])},
    }
    rendered = table([small, large])
    assert (
        "| M6 labels of the finished study, imported by the CLI: labels, labels/s (s, RSS) "
        "| 120,360, 20,060 (6.0 s, 340 MiB) | 120,360, 15,045 (8.0 s, 352 MiB) |"
    ) in rendered
    assert "| M6 agreement p50 / max ms | 600.0 / 700.0 | 600.0 / 600.0 |" in rendered
    assert "| M5 agreement p50 / max ms | - | - |" in rendered
    assert "m6 agreement p50 x1.00" in rendered.splitlines()[-1]
    assert "(s, RSS) | - |" in table([Result("sqlite", 1000)])


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
cpu MHz\t\t: 2450.000

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
"""
# user nice system idle iowait irq softirq steal guest guest_nice
STAT_BEFORE = "cpu  1000 0 200 5000 10 0 5 20 300 0\ncpu0 500 0 100 2500 5 0 2 10 150 0\nintr 1"
STAT_AFTER = "cpu  1400 0 300 5400 10 0 5 120 700 0\ncpu0 700 0 150 2700 5 0 2 60 350 0\nintr 1"


def test_the_processor_is_named_with_the_number_of_processors() -> None:
    assert processor(CPUINFO) == "AMD EPYC 7B13, 2 processors"
    assert processor("processor\t: 0\nvendor_id\t: ARM\n") == "processor unknown"


def test_stolen_time_is_a_share_of_the_machines_cpu_time_without_counting_guests_twice() -> None:
    before, after = CpuTicks.of_stat(STAT_BEFORE), CpuTicks.of_stat(STAT_AFTER)
    assert before == CpuTicks(total=6235, stolen=20)
    assert after is not None
    # 1,000 ticks passed (guest time is inside user time), 100 of them stolen
    assert after.stolen_share_since(before) == pytest.approx(0.1)
    assert after.stolen_share_since(after) is None
    assert CpuTicks.of_stat("intr 1\nctxt 2") is None


def test_the_reference_loop_reports_the_median_of_its_timings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # start and end of each of five loops: 40, 90, 60, 300 and 50 ms
    clock: Iterator[float] = iter([0.0, 0.04, 1.0, 1.09, 2.0, 2.06, 3.0, 3.3, 4.0, 4.05])
    monkeypatch.setattr(machine, "REFERENCE_LOOP_ADDITIONS", 10)
    monkeypatch.setattr(machine.time, "perf_counter", lambda: next(clock))
    assert machine.reference_loop_ms() == pytest.approx(60.0)


def test_the_table_shows_how_fast_the_machine_ran_and_what_the_host_took() -> None:
    measured, unread, unmeasured = (Result("sqlite", 1000) for _ in range(3))
    measured.figures |= {"reference_loop_before": 61.2, "reference_loop_after": 74.6}
    measured.figures["stolen"] = 0.0125
    unread.figures |= {"reference_loop_before": 60.0, "reference_loop_after": 60.4}
    rendered = table([measured, unread, unmeasured], processor="AMD EPYC, 2 processors")
    assert (
        "| machine speed: reference loop ms before / after (CPU time stolen) "
        "| 61 / 75 (1.2%) | 60 / 60 (unknown) | - |"
    ) in rendered
    assert rendered.splitlines()[-1] == "processor: AMD EPYC, 2 processors"


@pytest.mark.parametrize(("passages", "said"), [(1, "1 passage"), (29_000, "29,000 passages")])
def test_the_bench_reads_the_passages_an_import_stored(passages: int, said: str) -> None:
    summary = ImportReport(imported=["doc-1"], passages=passages).summary()
    assert said in summary
    assert passages_stored(summary) == passages
    assert passages_stored(f"<p>{summary}</p>") == passages  # the upload's result page
    assert passages_stored("1 imported, 0 failed") is None
