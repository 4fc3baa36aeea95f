"""The shared checks, once, against every LLM engine with the same cases (Gemini, Bedrock, OpenAI-compatible).

Whatever model answers, a draft keeps only what the transcript says, a truncated or filtered reply is never
used, malformed JSON is repaired only when the reply is complete, throttling is retried with backoff, an
engine that stays down hands over to the offline drafter with a banner, and extraction, explanation
rewrites and answers pass the same grounding rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backend.adapters.fallback import FallbackDrafter
from backend.adapters.llm import LlmAnswerer, LlmDrafter, LlmExplainer, LlmMedicationExtractor, RetryPolicy
from backend.domain.errors import ProviderUnavailable
from backend.domain.note_content import NoteContent
from tests.integration.llm_harness import DRAFT, ENGINES, SEGMENTS, Harness, harness


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with harness(request.param) as h:
        yield h


def drafter(h: Harness, attempts: int = 3) -> LlmDrafter:
    return LlmDrafter(h.client(attempts), verify=lambda name: name == "metformin", find_drugs=_drugs)


def _drugs(text: str) -> list[str]:
    return [w for w in ("metformin", "lisinopril", "amoxicillin") if w in text.lower()]


def offline_draft(segments: Any) -> NoteContent:
    return NoteContent(sections={"subjective": "offline"})


def test_valid_reply_becomes_a_grounded_note(engine: Harness) -> None:
    engine.ok(json.dumps(DRAFT))
    content = drafter(engine)(SEGMENTS)
    assert content.sections["plan"] == "Start metformin 500 mg twice daily."
    assert content.sections["objective"] == "Blood pressure 150/95."
    assert [(m.name, m.strength, m.verified, m.evidence.segment_ids) for m in content.medications] == [
        ("metformin", "500 mg", True, [3])
    ]
    assert content.provenance.unsupported == [] and content.vitals[0].value == "150/95"
    assert (content.provenance.engine or "").startswith(f"{engine.name}:")
    assert engine.calls() == 1 and engine.sleeps == []


def test_invented_medication_is_dropped_and_listed(engine: Harness) -> None:
    invented = json.loads(json.dumps(DRAFT))
    invented["medications"].append(
        {"name": "lisinopril", "verbatim": "lisinopril 10 mg", "strength": "10 mg", "segment_ids": [2]}
    )
    invented["sentences"].append(
        {"section": "plan", "kind": "plan", "text": "Add lisinopril 10 mg daily.", "segment_ids": [2]}
    )
    invented["vitals"].append({"kind": "hr", "value": "88", "unit": "bpm", "segment_ids": [2]})
    engine.ok(json.dumps(invented))
    content = drafter(engine)(SEGMENTS)
    assert [m.name for m in content.medications] == ["metformin"]
    assert "lisinopril" not in " ".join(content.sections.values()).lower()
    unsupported = " | ".join(content.provenance.unsupported)
    assert "lisinopril 10 mg" in unsupported and "not found in the recording" in unsupported
    assert "hr 88 bpm" in unsupported


def test_malformed_but_complete_json_is_repaired(engine: Harness) -> None:
    broken = "```json\n" + json.dumps(DRAFT).replace('"follow_up": []}', '"follow_up": [],}') + "\n```"
    engine.ok(broken)
    content = drafter(engine)(SEGMENTS)
    assert [m.name for m in content.medications] == ["metformin"] and content.sections["plan"]


def test_prose_instead_of_json_is_refused(engine: Harness) -> None:
    engine.ok("I am sorry, I cannot write a note for this consultation.")
    with pytest.raises(ProviderUnavailable, match="not valid JSON"):
        drafter(engine)(SEGMENTS)


def test_json_of_the_wrong_shape_is_refused(engine: Harness) -> None:
    engine.ok(json.dumps({"note": "Start metformin 500 mg twice daily."}))
    with pytest.raises(ProviderUnavailable, match="did not match the expected structure"):
        drafter(engine)(SEGMENTS)


def test_truncated_reply_is_never_repaired_and_falls_back(engine: Harness) -> None:
    text = json.dumps(DRAFT)
    engine.truncated(text[: len(text) // 2])
    with pytest.raises(ProviderUnavailable, match="truncated"):
        drafter(engine)(SEGMENTS)
    engine.truncated(text[: len(text) // 2])
    wrapper = FallbackDrafter(drafter(engine), offline_draft)
    content = wrapper(SEGMENTS)
    assert content.sections == {"subjective": "offline"}
    assert "truncated" in (content.provenance.engine_fallback or "") and content.provenance.engine == "rules"


def test_filtered_reply_is_refused(engine: Harness) -> None:
    engine.filtered()
    with pytest.raises(ProviderUnavailable, match="stopped early"):
        drafter(engine)(SEGMENTS)


def test_throttled_then_success_backs_off_once(engine: Harness) -> None:
    engine.throttled()
    engine.ok(json.dumps(DRAFT))
    content = drafter(engine)(SEGMENTS)
    assert [m.name for m in content.medications] == ["metformin"]
    assert engine.calls() == 2 and len(engine.sleeps) == 1
    if engine.throttle_hint is not None:
        assert engine.sleeps == [engine.throttle_hint]  # the server's own wait
    else:
        assert 0 <= engine.sleeps[0] <= RetryPolicy().base_delay  # first jittered step


def test_engine_down_gives_up_after_backoff_and_falls_back(engine: Harness) -> None:
    engine.down(4)
    wrapper = FallbackDrafter(drafter(engine, attempts=4), offline_draft, cloud_name=engine.name)
    content = wrapper(SEGMENTS)
    assert content.sections == {"subjective": "offline"}
    assert engine.calls() == 4 and len(engine.sleeps) == 3
    assert all(0 <= s <= RetryPolicy().max_delay for s in engine.sleeps)
    assert "unavailable" in (wrapper.last_error or "")
    assert (content.provenance.engine_fallback or "").startswith(
        f"Drafted by the offline engine (rules) because {engine.name}"
    )


def test_medication_extraction_drops_drugs_not_in_the_text(engine: Harness) -> None:
    meds = {"medications": [
        {"name": "paracetamol", "verbatim": "Tab Dolo 650 1-0-1 x 5 days", "strength": "650 mg", "duration": "5 days"},
        {"name": "amoxicillin", "verbatim": "Cap Amoxil 500", "strength": "500 mg"},
    ]}  # fmt: skip
    engine.ok(json.dumps(meds))
    found, unsupported = LlmMedicationExtractor(engine.client(), verify=lambda n: True).extract(
        "Rx\nTab Dolo 650 1-0-1 x 5 days\nAdv: rest, fluids"
    )
    assert [(m.name, m.strength) for m in found] == [("paracetamol", "650 mg")]
    assert any("amoxicillin" in u and "not found in the document" in u for u in unsupported)


def test_explanation_rewrite_keeps_numbers_or_the_original(engine: Harness) -> None:
    original = "Resting heart rate 78 bpm is 12 bpm above the usual 66 bpm, 3 days running."
    good = "Your resting heart rate (78 bpm) has been 12 bpm above your usual 66 bpm for 3 days."
    engine.ok(json.dumps({"text": good}))
    engine.ok(json.dumps({"text": "Heart rate is up by 10 bpm."}))
    engine.truncated('{"text": "Your resting')
    explainer = LlmExplainer(engine.client())
    assert explainer.rewrite(original) == good
    assert explainer.rewrite(original) == original  # a changed number: the original stays
    assert explainer.rewrite(original) == original  # a provider problem: the original stays
    assert "truncated" in (explainer.last_error or "")


@dataclass
class P:
    id: str
    label: str
    text: str


def test_answers_cite_only_given_passages(engine: Harness) -> None:
    passages = [
        P("n1", "Note 3 May", "Started metformin 500 mg twice daily."),
        P("d1", "Prescription", "Dolo 650 for fever."),
    ]
    engine.ok(json.dumps({"answer": "Metformin 500 mg twice daily.", "cited_ids": ["n1"]}))
    engine.ok(json.dumps({"answer": "Metformin 1000 mg.", "cited_ids": ["n9"]}))
    engine.ok(json.dumps({"answer": "Metformin 1000 mg.", "cited_ids": ["n1"]}))
    answerer = LlmAnswerer(engine.client())
    assert answerer("What diabetes medicine?", passages) == ("Metformin 500 mg twice daily.", ["n1"])
    with pytest.raises(ProviderUnavailable, match="not given"):
        answerer("What diabetes medicine?", passages)
    with pytest.raises(ProviderUnavailable, match="numbers"):
        answerer("What diabetes medicine?", passages)
