"""Times for people on the clinic's clock: fixed instants across the date line and a DST change; records stay UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from backend.config import Settings
from backend.domain import clock_format as cf
from backend.domain.errors import ValidationFailed
from backend.domain.models import Note, NoteStatus, Patient
from backend.domain.referral import build_referral
from backend.domain.summary_html import render_summary
from backend.domain.visit_summary import build_summary
from backend.domain.visit_summary_lang import language

IST = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


LATE_UTC = ms(2026, 3, 7, 20, 0)  # 20:00 UTC on the 7th is 01:30 on the 8th in India


def test_an_instant_is_shown_on_the_clinic_clock_with_its_zone_named() -> None:
    assert cf.moment_text(ms(2026, 12, 1, 5, 12), IST) == "2026-12-01 10:42 IST"
    assert cf.clock_text(ms(2026, 12, 1, 5, 12), IST) == "10:42 IST"
    assert cf.moment_text(ms(2026, 12, 1, 5, 12), IST, zone=False, seconds=True) == "2026-12-01 10:42:00"
    assert cf.moment_text(None, IST) == "—" and cf.day_text(None, IST) == "—"


def test_the_calendar_day_is_the_clinics_across_the_date_line() -> None:
    instant = ms(2026, 3, 7, 11, 0)
    assert cf.day(instant, ZoneInfo("Pacific/Kiritimati")) == date(2026, 3, 8)  # UTC+14
    assert cf.day(instant, ZoneInfo("Pacific/Pago_Pago")) == date(2026, 3, 7)  # UTC-11
    assert cf.day(LATE_UTC, IST) == date(2026, 3, 8) and cf.day(LATE_UTC, UTC) == date(2026, 3, 7)


def test_a_dst_change_moves_the_clock_and_its_name() -> None:
    # Europe/London springs forward at 01:00 UTC on 29 March 2026.
    assert cf.clock_text(ms(2026, 3, 29, 0, 30), LONDON) == "00:30 GMT"
    assert cf.clock_text(ms(2026, 3, 29, 1, 30), LONDON) == "02:30 BST"
    assert cf.clock_text(ms(2026, 11, 1, 6, 30), ZoneInfo("America/New_York")) == "01:30 EST"


def test_a_zone_without_a_letter_abbreviation_is_named_by_its_offset() -> None:
    assert cf.clock_text(ms(2026, 1, 1, 8, 0), ZoneInfo("Asia/Dubai")) == "12:00 +0400"
    assert cf.zone_abbrev(ms(2026, 1, 1), UTC) == "UTC"


def test_the_setting_takes_an_iana_name_and_refuses_anything_else() -> None:
    assert cf.clinic_zone(" Asia/Kolkata ") == IST
    assert cf.clinic_zone("").utcoffset(datetime.now()) is not None  # the machine's zone, or UTC
    with pytest.raises(ValidationFailed, match="Unknown time zone 'IST'"):
        cf.clinic_zone("IST")
    assert Settings(timezone="Asia/Kolkata").clinic_tz() == IST
    with pytest.raises(ValidationError, match="Unknown time zone 'Mars/Olympus'"):
        Settings(timezone="Mars/Olympus")


def _signed_late() -> Note:
    return Note(
        patient_id="PAT_00000001",
        timestamp=LATE_UTC,
        status=NoteStatus.SIGNED,
        signer="doctor",
        signed_at=LATE_UTC,
        sections={"subjective": "", "objective": "", "assessment": "Fever.", "plan": ""},
    )


def test_printouts_date_a_late_evening_visit_on_the_clinics_day() -> None:
    note, patient = _signed_late(), Patient(patient_id="PAT_00000001", name="Asha Rao")
    assert build_summary(note, "Asha", language("en"), tz=IST).visit_date == "8 March 2026"
    assert build_summary(note, "Asha", language("en")).visit_date == "7 March 2026"  # UTC, the default
    assert build_referral(note, patient, [], tz=IST).note_date == "2026-03-08"
    assert build_referral(note, patient, []).note_date == "2026-03-07"
    page = render_summary(patient, [], [note], [], [], LATE_UTC, IST)
    assert "Summary generated 2026-03-08" in page and "2026-03-07" not in page
