"""The clinic-day replay's schedule (seeded, inside the day, scaled) and its report (figures split by whether the
worker was busy, targets judged), on a made-up log: no processes, no clock."""

from __future__ import annotations

from backend.bench.clinic_day import DayLog, Sample, Tracked, report, scaled, schedule


def test_the_schedule_is_seeded_spread_over_the_day_and_scaled() -> None:
    day = schedule(40, 40, 3600.0, seed=11)
    assert day == schedule(40, 40, 3600.0, seed=11) and day != schedule(40, 40, 3600.0, seed=12)
    assert [a.at_s for a in day] == sorted(a.at_s for a in day)
    assert all(0.0 <= a.at_s < 3600.0 for a in day)
    for kind in ("consultation", "prescription"):
        mine = [a for a in day if a.kind == kind]
        assert sorted(a.index for a in mine) == list(range(40))
        # Spread, not bunched: every quarter of the day gets about a quarter of the uploads.
        quarters = [sum(1 for a in mine if q * 900 <= a.at_s < (q + 1) * 900) for q in range(4)]
        assert all(8 <= n <= 12 for n in quarters), quarters
    assert all(0 <= a.patient < 20 for a in day)
    assert (scaled(40, 0.1), scaled(40, 0.01)) == (4, 1)


def test_the_report_splits_reads_by_a_busy_worker_and_judges_the_targets() -> None:
    log = DayLog()
    log.jobs = [
        Tracked("consultation", "JOB_a", submitted_s=0.0, started_s=1.0, done_s=61.0, status="ready_for_review"),
        Tracked("consultation", "JOB_b", submitted_s=10.0, started_s=61.0, done_s=150.0, status="ready_for_review"),
        Tracked("prescription", "JOB_c", submitted_s=20.0, started_s=150.0, done_s=153.0, status="ready_for_review"),
    ]
    log.samples = [Sample(float(i), "timeline", 100.0 + i, busy=True) for i in range(20)]
    log.samples += [Sample(5.0, "api_timeline", 50.0, busy=True), Sample(200.0, "api_patients", 10.0, busy=False)]
    log.samples += [Sample(6.0, "dashboard", 9999.0, busy=True, ok=False)]
    out = report(log, {"seed": 11})
    assert out["queue_wait_s"] == {"p50": 51.0, "p95": 130.0, "max": 130.0, "n": 3}
    assert out["time_to_draft_s"] == {"p50": 61.0, "p95": 140.0, "max": 140.0, "n": 2}
    assert out["time_to_reading_s"]["n"] == 1 and out["time_to_reading_s"]["max"] == 133.0
    assert out["page_read_ms_busy"]["n"] == 20 and out["page_read_ms_busy"]["p95"] == 118.0
    assert out["api_read_ms_busy"]["n"] == 1 and out["api_read_ms_idle"]["n"] == 1
    assert out["read_errors"] == 1  # counted, and kept out of the latencies
    assert out["pass"] == {"page_p95": True, "api_p95": True, "every_draft_within_2_min": False}  # 140 s > 120 s
    assert out["day"] == {"seed": 11}


def test_an_unfinished_job_fails_the_draft_target() -> None:
    log = DayLog()
    log.jobs = [Tracked("consultation", "JOB_a", submitted_s=0.0, started_s=1.0)]
    out = report(log, {})
    assert out["not_ready_or_failed"] == 1 and out["time_to_draft_s"] == {"n": 0}
    assert out["pass"]["every_draft_within_2_min"] is False
    assert out["pass"]["page_p95"] is False  # no reads measured while busy: nothing shown to pass
