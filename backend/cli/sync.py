"""``python -m backend sync wearables [--day D] [--json]``: the daily wearable sync, once (the scheduler's command).

EventBridge Scheduler runs exactly this on AWS; the local worker runs the same service at ``COPILOT_SYNC_AT``.
Exit status: 0 when every linked patient was imported or skipped (or the day was done already, or another
process holds it), 1 when a patient failed (the report names each one and why), 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import Any

from backend.domain.errors import ValidationFailed


def register(sub: Any) -> None:
    parser = sub.add_parser("sync", help="sync wearable data of linked patients (the daily job)")
    what = parser.add_subparsers(dest="what", required=True)
    wearables = what.add_parser(
        "wearables", help="yesterday's Ultrahuman data of every linked patient -> daily metrics -> anomalies"
    )
    wearables.add_argument("--day", type=_day, help="the day to sync, YYYY-MM-DD (default: yesterday, local time)")
    wearables.add_argument("--json", action="store_true", help="last line: the report as one JSON object")
    wearables.set_defaults(func=_sync_wearables)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day such as 2026-11-30") from e


def _sync_wearables(args: argparse.Namespace) -> int:
    from backend.bootstrap import build_app
    from backend.domain.sync_schedule import day_to_sync, zone
    from backend.services.wearable_sync import sync_wearables
    from backend.worker.daily_sync import sync_deps

    app = build_app()
    deps = sync_deps(app)
    if deps is None:
        raise ValidationFailed("No Ultrahuman partner token is configured: set COPILOT_ULTRAHUMAN_TOKEN and run again.")
    tz = zone(app.settings.sync_timezone)
    today = datetime.now(tz).date()
    day = args.day or day_to_sync(datetime.now(tz), tz)
    if day >= today:
        raise ValidationFailed(f"{day} is not over yet ({today} is today here): sync a day that has ended.")
    report = sync_wearables(deps, day)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(f"wearable sync {report.day}: {report.note}")
        for p in report.patients:
            line = f"  {p.patient_id}  {p.status}"
            if p.values_written:
                line += f"  {p.values_written} daily values"
            if p.reason:
                line += f"  ({p.reason})"
            print(line)
            for e in p.episodes:
                print(f"      anomaly {e['start_day']}..{e['end_day']} {e['metric']}: {e['explanation']}")
    return 1 if report.failed else 0
