"""Rows written by the previous version (a ``fields`` dict on notes, a ``params`` dict on jobs) load typed."""

from __future__ import annotations

import json
from typing import Any

from backend.domain.legacy_rows import job_from_row, note_from_row, upgrade_note_row
from backend.domain.models import JobStatus, Note, NoteStatus
from backend.domain.note_content import CitedText, Diagnosis, DraftSentence, RecoveredName, Symptom, Vital

# A note body exactly as the previous version stored it: an offline draft, relabelled, with a speech fallback.
OLD_NOTE: dict[str, Any] = {
    "version": 3,
    "patient_id": "PAT_0000abcd",
    "timestamp": 1_700_000_000_000,
    "status": "draft",
    "author": "nurse",
    "signer": None,
    "signed_at": None,
    "amends": None,
    "job_id": "JOB_0123456789abcdef",
    "audio_key": "audio/ab/abcdef",
    "transcript": [
        {"id": 0, "start": 0.0, "end": 3.0, "text": "What brings you in?", "speaker": "clinician",
         "role_source": "voice"},
        {"id": 1, "start": 3.0, "end": 6.0, "text": "A cough, no fever.", "speaker": "patient", "role_source": "voice"},
        {"id": 2, "start": 6.0, "end": 9.0, "text": "BP is 300 over 80. Take list in April.", "speaker": "clinician",
         "role_source": "clinician"},
    ],
    "sections": {"subjective": "She reports a cough.", "objective": "Blood pressure: 300/80 mmHg.",
                 "assessment": "", "plan": "Follow up in 2 weeks."},
    "fields": {
        "chief_complaint": {"text": "cough", "segment_ids": [1]},
        "symptoms": [{"name": "cough", "present": True, "segment_ids": [1]},
                     {"name": "fever", "present": False, "segment_ids": [1]}],
        "vitals": [{"kind": "bp", "value": "300/80", "unit": "mmHg", "plausible": False,
                    "reason": "bp 300 mmHg is outside the plausible range 50-260 mmHg", "segment_ids": [2]},
                   {"kind": "hr", "value": 88, "unit": "bpm", "plausible": True, "segment_ids": [2]}],
        "diagnoses": [{"text": "bronchitis", "certainty": "possible", "unverified": True, "segment_ids": [2]}],
        "allergies": [{"text": "no known drug allergies", "segment_ids": [1]}],
        "follow_up": {"text": "in 2 weeks", "segment_ids": [2]},
        "patient_pronouns": "she",
        "sentences": [{"section": "subjective", "text": "She reports a cough.", "segment_ids": [1], "kind": "hpi",
                       "unverified": False},
                      {"section": "objective", "text": "Blood pressure: 300/80 mmHg.", "segment_ids": [2],
                       "kind": "vitals", "unverified": True}],
        "recovered_names": [{"segment_id": 2, "heard": "list in April", "drug": "lisinopril", "score": 0.913}],
        "audio_warnings": ["Only one voice was heard."],
        "engine_fallback": "Transcribed by the offline engine (whisper) because transcribe is unavailable: quota",
        "low_accuracy_engine": "sphinx",
        "roles_set_by": "doctor",
        "style": "brief",
        "edited_by": "nurse",
    },
    "medications": [{"name": "lisinopril", "verbatim": "list in April", "verified": False, "found_by": "sounds_like",
                     "heard_as": "list in April", "evidence": {"segment_ids": [2], "quote": ""}}],
    "unsupported": ["Medication “warfarin 5 mg”: not found in the recording"],
    "updated_at": 1_700_000_100_000,
}  # fmt: skip


def test_an_old_note_row_loads_with_every_field_typed() -> None:
    note = note_from_row(json.loads(json.dumps(OLD_NOTE)))
    assert (note.version, note.status, note.job_id, note.audio_key) == (3, NoteStatus.DRAFT, OLD_NOTE["job_id"],
                                                                        "audio/ab/abcdef")  # fmt: skip
    assert note.sections == OLD_NOTE["sections"] and [s.speaker for s in note.transcript][1] == "patient"
    assert note.chief_complaint == CitedText(text="cough", segment_ids=[1])
    assert note.symptoms == [Symptom(name="cough", present=True, segment_ids=[1]),
                             Symptom(name="fever", present=False, segment_ids=[1])]  # fmt: skip
    bp, hr = note.vitals
    assert bp == Vital(kind="bp", value="300/80", unit="mmHg", plausible=False,
                       reason="bp 300 mmHg is outside the plausible range 50-260 mmHg", segment_ids=[2])  # fmt: skip
    assert (hr.value, hr.plausible, hr.reason) == ("88", True, "")  # a number in an old row reads as said
    assert note.diagnoses == [Diagnosis(text="bronchitis", certainty="possible", unverified=True, segment_ids=[2])]
    assert note.allergies == [CitedText(text="no known drug allergies", segment_ids=[1])]
    assert note.follow_up == CitedText(text="in 2 weeks", segment_ids=[2])
    assert note.sentences[1] == DraftSentence(section="objective", text="Blood pressure: 300/80 mmHg.",
                                              segment_ids=[2], kind="vitals", unverified=True)  # fmt: skip
    assert (note.speakers.patient_pronoun, note.speakers.roles_set_by) == ("she", "doctor")
    p = note.provenance
    assert p.recovered_names == [RecoveredName(segment_id=2, heard="list in April", drug="lisinopril", score=0.913)]
    assert p.audio_warnings == ["Only one voice was heard."] and p.low_accuracy_engine == "sphinx"
    assert p.engine_fallback == OLD_NOTE["fields"]["engine_fallback"] and p.engine is None
    assert p.unsupported == OLD_NOTE["unsupported"]
    assert (note.style, note.edited_by) == ("brief", "nurse")
    assert note.medications[0].heard_as == "list in April" and note.medications[0].evidence.segment_ids == [2]


def test_an_upgraded_note_is_written_back_in_the_new_shape_and_reads_the_same() -> None:
    note = note_from_row(OLD_NOTE)
    stored = json.loads(note.model_dump_json())
    assert "fields" not in stored and "unsupported" not in stored and stored["provenance"]["unsupported"]
    assert note_from_row(stored) == note == Note.model_validate(stored)


def test_an_old_llm_draft_keeps_its_diagnoses_engine_and_follow_up_sentences() -> None:
    row = {
        "patient_id": "PAT_0000abcd",
        "sections": {"subjective": "", "objective": "", "assessment": "Hypertension.", "plan": "Return in a week."},
        "fields": {
            "sentences": [{"section": "plan", "kind": "plan", "text": "Return in a week.", "segment_ids": [3],
                           "unverified": False}],
            "vitals": [{"kind": "bp", "value": "150/95", "unit": "mmHg", "segment_ids": [1]}],
            "diagnoses": [{"name": "hypertension", "segment_ids": [2]}],
            "follow_up": [{"text": "Return in a week.", "segment_ids": [3]}],
            "engine": "gemini:gemini-2.5-flash",
        },
    }  # fmt: skip
    note = note_from_row(row)
    assert note.diagnoses == [Diagnosis(text="hypertension", segment_ids=[2])]  # was keyed "name", read as text
    assert note.vitals[0].plausible is True and note.provenance.engine == "gemini:gemini-2.5-flash"
    assert note.follow_up is None and note.sentences[0].text == "Return in a week."  # a plan sentence, as shown


def test_odd_old_values_never_stop_a_note_from_opening() -> None:
    row = {
        "patient_id": "PAT_0000abcd",
        "fields": {"chief_complaint": "Headache", "diagnoses": ["migraine", {"certainty": "stated"}, 7],
                   "allergies": "penicillin", "vitals": [{"value": "x"}], "symptoms": None, "hand_made": {"x": 1}},
    }  # fmt: skip
    note = note_from_row(row)
    assert note.chief_complaint == CitedText(text="Headache")
    assert [d.text for d in note.diagnoses] == ["migraine"]
    assert note.allergies == [] and note.vitals == [] and note.symptoms == []
    assert upgrade_note_row({"patient_id": "p", "sections": {}}) == {"patient_id": "p", "sections": {}}  # new rows


def test_an_old_job_row_loads_its_params_as_typed_fields() -> None:
    row = {
        "version": 2, "job_id": "JOB_0123456789abcdef", "kind": "scribe", "patient_id": "PAT_0000abcd",
        "blob_key": "audio/ab/abcdef", "status": "transcribing", "attempts": 1, "created_by": "nurse",
        "params": {"filename": "visit.webm", "source": "browser", "duration_s": 312.5, "codec": "opus",
                   "lease_until": 1_700_000_090_000, "worker": "host:123"},
    }  # fmt: skip
    job = job_from_row(row)
    assert (job.filename, job.source, job.duration_s, job.codec) == ("visit.webm", "browser", 312.5, "opus")
    assert (job.status, job.attempts, job.version) == (JobStatus.TRANSCRIBING, 1, 2)
    assert "params" not in json.loads(job.model_dump_json())
    assert job_from_row({**row, "params": {"duration_s": None}}).duration_s is None
