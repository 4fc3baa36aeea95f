"""Misattribution: a condition or drug the consultation names that is not the patient's current one stays out."""

from __future__ import annotations

from backend.domain.drafting import draft_note
from backend.domain.drafting.meds import REASONS
from backend.domain.drafting.render import render_note_text
from backend.domain.note_content import NoteContent
from backend.evals.notes import dialogue_to_segments


def _draft(dialogue: str) -> NoteContent:
    return draft_note(dialogue_to_segments(dialogue))


def _diagnoses(dialogue: str) -> list[str]:
    return [d.text for d in _draft(dialogue).diagnoses]


def _meds(dialogue: str) -> dict[str, tuple[str | None, str | None]]:
    meds = _draft(dialogue).medications
    assert not any(f in REASONS for m in meds for f in m.flags)  # the reason is the status's, not a flag
    return {m.name: (m.status, m.status_reason) for m in meds}


def test_a_negation_reaches_every_condition_of_its_list() -> None:
    assert _diagnoses("[patient] i have never had asthma , heart failure , or copd .") == []
    assert _diagnoses("[patient] no history of diabetes , but i do have high blood pressure .") == ["hypertension"]


def test_a_relatives_condition_is_family_history() -> None:
    assert _diagnoses("[patient] my mother has breast cancer and my uncle had a heart attack .") == []
    assert _diagnoses("[patient] my brother has gout . he has kidney stones too .") == []
    assert _diagnoses("[patient] my father had a stroke , but i have asthma .") == ["asthma"]
    # a daughter speaking for the patient calls the patient "my father"
    assert _diagnoses("[daughter] my father has diabetes .") == ["diabetes"]
    # the clinician's "he" is the patient
    assert _diagnoses("[doctor] your sister was here . he has asthma .") == ["asthma"]


def test_risks_screenings_and_exam_signs_are_not_diagnoses() -> None:
    assert _diagnoses("[doctor] the procedure carries a small risk of stroke or heart attack .") == []
    assert _diagnoses("[doctor] you are due for colon cancer screening .") == []
    assert _diagnoses("[doctor] on exam there is no rebound and positive cva tenderness on the left .") == []
    assert _diagnoses("[doctor] people with asthma should get the flu shot .") == []


def test_a_supposed_condition_is_not_one_but_a_far_if_does_not_reach_it() -> None:
    assert _diagnoses("[doctor] if it were a stroke you would have weakness .") == []
    kept = "[doctor] call me if you gain 3 pounds in 2 days because of the heart failure we are treating ."
    assert _diagnoses(kept) == ["congestive heart failure"]
    assert _diagnoses("[patient] i am not sure if it is asthma .") == ["asthma"]


def test_a_drug_only_considered_allergic_to_or_measured_is_not_a_medication() -> None:
    assert _meds("[doctor] if it gets worse we may start metformin .") == {}
    assert _meds("[patient] i am allergic to penicillin .") == {}
    assert _meds("[doctor] your vitamin d level was low .") == {}
    assert list(_meds("[patient] i take loratadine for my allergies .")) == ["loratadine"]


def test_a_drug_not_taken_refused_or_to_avoid_is_declined_with_the_reason() -> None:
    assert _meds("[patient] i have not been taking my lisinopril .") == {
        "lisinopril": ("declined", '"i have not been taking my lisinopril"')
    }
    assert _meds("[patient] i do not want the atorvastatin .") == {
        "atorvastatin": ("declined", '"i do not want the atorvastatin"')
    }
    assert _meds("[doctor] try not to take any ibuprofen .") == {
        "ibuprofen": ("declined", '"try not to take any ibuprofen"')
    }
    # a drug the patient stopped is stopped, not declined
    assert _meds("[patient] i stopped my metformin .") == {"metformin": ("stopped", None)}
    # started again later in the visit: the last status wins and the old reason goes
    assert _meds("[patient] i stopped my metformin .\n[doctor] let us start the metformin again .") == {
        "metformin": ("started", None)
    }
    assert _meds("[patient] i do not want the atorvastatin .\n[doctor] let us start the atorvastatin .") == {
        "atorvastatin": ("started", None)
    }


def test_a_drug_the_plan_hopes_to_avoid_needing_is_a_goal_not_a_refusal() -> None:
    assert _meds("[doctor] we talked about how we want to avoid going to insulin .") == {}
    assert _meds("[doctor] i would like to avoid having to start insulin .") == {}
    # avoiding the drug itself is still advice not to take it
    assert _meds("[doctor] please avoid ibuprofen .") == {"ibuprofen": ("declined", '"please avoid ibuprofen"')}


def test_the_note_text_says_a_drug_is_declined_and_why() -> None:
    text = render_note_text(_draft("[patient] i do not want the atorvastatin .\n[patient] i take metformin ."))
    assert '- Declined: atorvastatin — "i do not want the atorvastatin"' in text
    assert "(declined)" not in text and "- metformin" in text


def test_a_drug_asked_about_counts_by_the_answer() -> None:
    assert _meds("[doctor] are you taking any aspirin ?\n[patient] no .") == {}
    assert _meds("[doctor] are you taking your metformin ?\n[patient] yes .") == {"metformin": ("continued", None)}


def test_abbreviations_keep_their_capitals_in_the_draft() -> None:
    draft = _draft(
        "[doctor] let me examine you . your lungs are clear .\n"
        "[doctor] my impression is that this is possibly gerd , and your copd is stable ."
    )
    assert {d.text for d in draft.diagnoses} == {"GERD", "COPD"}
    assessment = " ".join(s.text for s in draft.sentences if s.section == "assessment")
    assert "GERD" in assessment and "COPD" in assessment and "gerd" not in assessment


def test_an_everyday_word_is_a_diagnosis_only_with_its_site() -> None:
    assert _diagnoses("[patient] there has been a little too much stress and strain at work .") == []
    assert _diagnoses("[doctor] i will give you a strainer so you can strain your urine .") == []
    assert _diagnoses("[doctor] on exam your back is tender . i think this is an acute lumbar , um , strain .") == [
        "strain"
    ]
    assert _diagnoses("[doctor] on exam your knee is tender . you have a strain of your ligament .") == ["strain"]


def test_a_drug_that_was_measured_is_a_result() -> None:
    assert _meds("[doctor] we checked your estradiol and it was fine .") == {}


def test_a_result_said_before_the_name_is_not_a_medication_but_a_high_dose_is() -> None:
    assert _meds("[doctor] the blood work showed a high testosterone , so we will look into that .") == {}
    assert "testosterone" in _meds("[doctor] we will start you on high dose testosterone injections .")


def test_a_frequency_belongs_to_the_drug_it_is_said_with() -> None:
    draft = _draft(
        "[doctor] ice the knee 3 to 4 times a day for 20 minutes , and keep taking the lisinopril .\n"
        "[doctor] take ibuprofen 600 mg every 8 hours along with tylenol every 6 hours .\n"
        "[doctor] keep going with twice a day gabapentin ."
    )
    freq = {m.name: m.frequency for m in draft.medications}
    assert freq == {"lisinopril": None, "ibuprofen": "every 8 hours", "paracetamol": "every 6 hours",
                    "gabapentin": "twice daily"}  # fmt: skip


def test_a_percent_strength_is_not_read_as_milligrams() -> None:
    draft = _draft("[doctor] apply triamcinolone 0.1 percent cream twice a day .")
    assert [(m.name, m.strength) for m in draft.medications] == [("triamcinolone", "0.1%")]


def test_a_drug_named_as_an_example_in_a_question_is_not_the_patients() -> None:
    assert (
        _meds("[doctor] do you take any nonsteroidals like advil or motrin or aleve ?\n[patient] i do not know .") == {}
    )
    assert _meds("[doctor] do you take anything like aspirin ?\n[patient] yes .") == {"aspirin": (None, None)}


def test_a_drug_taken_in_the_past_is_stopped_not_taken() -> None:
    assert _meds("[patient] i was also on lisinopril before , now i am on other ones .") == {
        "lisinopril": ("stopped", None)
    }
    assert _meds("[patient] i used to take metformin .") == {"metformin": ("stopped", None)}
    assert _meds("[patient] i am on lisinopril .") == {"lisinopril": (None, None)}


def test_a_drug_tried_that_did_not_help_is_not_taken_and_quotes_what_was_said() -> None:
    tried = "tried, did not help: "
    # a list of drugs tried, the failure said once for all of them
    assert _meds("[patient] i tried aspirin and naproxen , none of them helped .") == {
        "aspirin": ("stopped", tried + '"i tried aspirin and naproxen , none of them helped"'),
        "naproxen": ("stopped", tried + '"i tried aspirin and naproxen , none of them helped"'),
    }
    assert _meds("[patient] i have tried ibuprofen with no relief .") == {
        "ibuprofen": ("stopped", tried + '"i have tried ibuprofen with no relief"')
    }
    # the failure in the next sentence of the same speaker, or in the patient's answer
    assert _meds("[patient] i even tried some ibuprofen .\n[patient] it did not really seem to be working .") == {
        "ibuprofen": ("stopped", tried + '"i even tried some ibuprofen ... it did not really seem to be working"')
    }
    assert _meds("[doctor] have you tried any aspirin ?\n[patient] yes , it did not do anything .") == {
        "aspirin": ("stopped", tried + '"you tried any aspirin ... yes , it did not do anything"')
    }


def test_a_drug_tried_is_not_failed_without_words_that_say_so() -> None:
    assert _meds("[patient] i tried ibuprofen and it helped a lot .") == {"ibuprofen": (None, None)}
    # a failure said of another drug in the next sentence is that drug's, not the one tried
    assert _meds("[patient] i tried aspirin .\n[patient] i take naproxen but it did not help my back .") == {
        "aspirin": (None, None),
        "naproxen": (None, None),
    }
    # still taken though it does not work: continued, as said
    assert _meds("[patient] i have been taking naproxen but it is not helping .") == {"naproxen": ("continued", None)}
    # a trial the clinician starts is a start, not a failed try
    assert _meds("[doctor] we will try you on naproxen , call me if it does not help .") == {
        "naproxen": ("started", None)
    }


def test_the_note_says_a_tried_drug_did_not_help_before_its_name() -> None:
    text = render_note_text(_draft("[patient] i tried aspirin , it did not help .\n[patient] i take metformin ."))
    assert '- Tried, did not help: aspirin — "i tried aspirin , it did not help"' in text
    assert "- metformin" in text and "(stopped)" not in text
