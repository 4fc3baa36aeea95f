"""Role assignment: the voices of a recording (acoustic clustering) named by their wording.

Method: frame features (``features``) -> words grouped into stretches of up to 2 s -> stretch vectors clustered,
number of voices chosen by between-group Mahalanobis distance (``cluster``) -> per-voice frame models label every
word, Viterbi with a cost to change voice (``voices``) -> segments split where the voice changes, at word
boundaries (``split``) -> each voice named by the wording of all its turns (``wording``): the most clinician-like
voice is the clinician, the one of the rest who says most the patient, any further voice "other". One voice only
(or two too close to count): the segments are cut into turns at pauses and each turn named by its wording
(``turns``), with a warning. A recording whose quiet frames are within ``NOISY_RANGE_DB`` of its loud ones is a
noisy room: the roles come as usual, with a warning to check them.

Measured (``python -m backend.evals.speaker_roles DIR``): word-level role accuracy against the tagged turns on the
first 8 ACI-Bench consultations of each split spoken by two espeak-ng voices: valid 0.995 (8 recordings, whisper
segments and words as input), train 0.991 (3 recordings with whisper words; all 8 with words timed from the turns,
``--words-from-turns``: 0.991). Cost 0.003 s of CPU per second of audio, about 2-3 % of transcription time; an hour
of audio: 10 s, +0.4 GB. Other voices (1-3 minute dialogues, 9 other espeak-ng voices and variants, not used for any
constant but the voice-count thresholds): 21 of 24 two-voice pairs at 0.95 or better, and every recording below
0.9 carried a warning; 20 of 21 one-voice recordings called one voice; 9 of 12 three-voice recordings found all
three (then 0.99 or better), the other 3 were heard as two voices with no warning.

Not tuned on (after the voice count learnt to scale with a recording's length and companions were named): ACI-Bench
train rows 8-15, 0.994 with words timed from the turns (8 recordings), 0.998 with whisper words (the 4 transcribed);
the one ACI-Bench consultation where a parent speaks for her child (valid row 8, "patient_guest"), 0.999 (it was
0.49: the parent was named the patient). The first 8 of valid and train are unchanged (0.995, 0.994).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from backend.domain.models import Segment
from backend.domain.speakers.cluster import cluster_voices
from backend.domain.speakers.features import Frames, frame_features, span_vector
from backend.domain.speakers.split import split_segment
from backend.domain.speakers.turns import roles_by_turns
from backend.domain.speakers.voices import label_spans
from backend.domain.speakers.wording import sequence_roles, speaks_for_someone_else, turn_score

ROLES = ("clinician", "patient", "other")
UNIT_GAP_S = 0.15  # a pause this long ends a stretch of speech
UNIT_MAX_S = 2.0  # stretches are kept short so few of them hold two voices
UNCERTAIN_MARGIN = 0.5  # mean turn-score difference below which the naming of voices is a guess
# Loud over quiet frames below this (dB) is a noisy room. On ACI-Bench consultations spoken by espeak-ng and mixed
# with noise at a known SNR, the range was about the SNR plus 7 dB (pink room noise at 10 dB: 17; babble at 10 dB:
# 19; pink at 15 dB after a room's echo: 21; white at 20 dB: 26; clean: 85). With room noise at 10 dB the words got
# worse (WER 0.070 -> 0.180 on the first minute of 8 consultations) while the roles held (0.952 -> 0.946): the
# warning says both may be wrong. 20 warns from about 13 dB SNR down (``python -m backend eval robustness``).
NOISY_RANGE_DB = 20.0

ONE_VOICE = "Only one voice was heard: roles were guessed from the wording. Check who said what."
MANY_VOICES = (
    "{n} voices were heard: the clinician and the patient were told apart by their words; "
    "the other voices are marked “other”. Check who said what."
)
TOO_LITTLE = "Too little speech to tell the voices apart: roles were guessed from the wording. Check who said what."
COMPANION = (
    "A voice spoke of the patient as “she” or “he” (a parent or companion): its turns are marked “other”. "
    "Check who said what."
)
NOISY = (
    "The recording is noisy: who said what (and some words) may be wrong. Check the roles against the recording; "
    "next time record closer to the speakers, away from fans and other talk."
)
UNCERTAIN = "The roles are uncertain: the words do not show clearly which voice is the clinician's. Check them."


@dataclass(frozen=True)
class RoleResult:
    """Segments with ``speaker`` set to a role, and what the clinician should know about how."""

    segments: list[Segment]
    warnings: list[str] = field(default_factory=list)
    voices: int = 0  # distinct voices heard (0: not measured)


@dataclass(frozen=True)
class _Item:
    """A word (or a whole segment that has no words) in time order."""

    segment: int
    word: int  # index in the segment's words; 0 for a segment without words
    start: float
    end: float
    starts_unit: bool  # a segment without words is a stretch of its own


def roles_from_wording(segments: Sequence[Segment]) -> RoleResult:
    """Roles from what each turn says (no audio): one turn per segment, turns tend to alternate.

    Segments that already have a speaker keep it.
    """
    segs = list(segments)
    roles = sequence_roles([s.text for s in segs])
    out = [
        s if s.speaker else s.model_copy(update={"speaker": r, "role_source": "wording"})
        for s, r in zip(segs, roles, strict=True)
    ]
    return RoleResult(out)


def name_voices(texts_by_voice: dict[int, list[str]]) -> tuple[dict[int, str], bool]:
    """Role of each voice from the wording of its turns; and whether the naming is clear.

    The voice whose turns sound most like a clinician's (mean cue score) is the clinician. Of the rest, the one who
    says the most is the patient (the consultation is about them; a companion says less), the more patient-like
    wording breaking ties; any further voice is "other". A voice that speaks of the patient as "she" or "he" more
    than of itself is a companion (a parent speaking for a child) and is "other" even when it says the most.
    """
    return _name_voices(texts_by_voice)[:2]


def _name_voices(texts_by_voice: dict[int, list[str]]) -> tuple[dict[int, str], bool, bool]:
    """:func:`name_voices`, and whether a companion was named "other" for speaking of the patient."""
    score = {v: float(np.mean([turn_score(t) for t in texts])) if texts else 0.0 for v, texts in texts_by_voice.items()}
    words = {v: sum(len(t.split()) for t in texts) for v, texts in texts_by_voice.items()}
    clinician = min(score, key=lambda v: (-score[v], v))
    companion = {v for v in score if v != clinician and speaks_for_someone_else(texts_by_voice[v])}
    rest = sorted((v for v in score if v != clinician), key=lambda v: (v in companion, -words[v], score[v], v))
    roles = {clinician: "clinician"}
    roles.update({v: "patient" if i == 0 and v not in companion else "other" for i, v in enumerate(rest)})
    clear = not rest or score[clinician] - max(score[v] for v in rest) >= UNCERTAIN_MARGIN
    return roles, clear, bool(companion)


def _turn_texts(pieces: Sequence[tuple[Segment, int]]) -> dict[int, list[str]]:
    """Consecutive pieces of one voice joined into turns, grouped by voice."""
    turns: dict[int, list[str]] = {}
    prev: int | None = None
    for seg, v in pieces:
        texts = turns.setdefault(v, [])
        if v == prev and texts:
            texts[-1] = f"{texts[-1]} {seg.text}"
        else:
            texts.append(seg.text)
        prev = v
    return turns


def _engine_roles(segs: list[Segment]) -> RoleResult:
    """Keep the engine's speakers; engine labels that are not roles (``spk_0``) are named by their wording."""
    unnamed = [(s, s.speaker or "") for s in segs if s.speaker not in ROLES]
    labels = sorted({lab for _, lab in unnamed})
    roles, clear = name_voices(_turn_texts([(s, labels.index(lab)) for s, lab in unnamed])) if unnamed else ({}, True)
    out = []
    for s in segs:
        role = s.speaker if s.speaker in ROLES else roles[labels.index(s.speaker or "")]
        out.append(s.model_copy(update={"speaker": role, "role_source": s.role_source or "engine"}))
    voices = len({s.speaker for s in segs})
    return RoleResult(out, [] if clear else [UNCERTAIN], voices)


def _items(segs: Sequence[Segment]) -> list[_Item]:
    items: list[_Item] = []
    for i, s in enumerate(segs):
        if s.words:
            items.extend(_Item(i, j, w.start, max(w.end, w.start), False) for j, w in enumerate(s.words))
        else:
            items.append(_Item(i, 0, s.start, max(s.end, s.start), True))
    return sorted(items, key=lambda it: (it.start, it.end, it.segment))


def _units(items: Sequence[_Item]) -> list[tuple[float, float]]:
    """Stretches of speech for clustering: runs of words broken at pauses and every ``UNIT_MAX_S``."""
    units: list[list[float]] = []
    for k, it in enumerate(items):
        prev = items[k - 1] if k else None
        if (
            prev is None
            or it.starts_unit
            or prev.starts_unit
            or it.start - prev.end >= UNIT_GAP_S
            or it.end - units[-1][0] > UNIT_MAX_S
        ):
            units.append([it.start, it.end])
        else:
            units[-1][1] = max(units[-1][1], it.end)
    return [(a, b) for a, b in units]


def assign_roles(samples: NDArray[np.float32], segments: Sequence[Segment]) -> RoleResult:
    """Roles for a recording's segments: voices told apart by sound, named by their words.

    Args:
        samples: the recording, 16 kHz mono float32.
        segments: the transcript in time order; ``words`` (with times) let a segment be split where the voice
            changes.

    Returns:
        Segments (split at changes of voice) with ``speaker`` and ``role_source`` set, warnings for the clinician,
        and the number of voices heard.
    """
    segs = list(segments)
    if not segs:
        return RoleResult([])
    if all(s.speaker for s in segs):
        return _engine_roles(segs)
    frames = frame_features(samples)
    result = _voice_roles(frames, segs)
    if frames.level_range_db < NOISY_RANGE_DB:
        return RoleResult(result.segments, [NOISY, *result.warnings], result.voices)
    return result


def _voice_roles(frames: Frames, segs: list[Segment]) -> RoleResult:
    """:func:`assign_roles` on the recording's frames: voices clustered, words labelled, voices named."""
    items = _items(segs)
    units = _units(items)
    kept = [(u, v) for u in units if (v := span_vector(frames, *u)) is not None]
    if len(kept) < 6:  # a few stretches (or long segments without word times) cannot be clustered
        return RoleResult(roles_by_turns(segs), [TOO_LITTLE], 0)
    seconds = np.array(
        [float(frames.speech[frames.index(a) : frames.index(b)].sum()) * frames.hop_s for (a, b), _ in kept]
    )
    found = cluster_voices(np.array([v for _, v in kept]), seconds)
    if found.count == 1:
        return RoleResult(roles_by_turns(segs), [ONE_VOICE], 1)
    initial = [(a, b, int(lab)) for ((a, b), _), lab in zip(kept, found.labels, strict=True)]
    labels = label_spans(frames, [(it.start, it.end) for it in items], initial, found.count)
    per_segment = {i: [0] * max(1, len(s.words)) for i, s in enumerate(segs)}
    for it, lab in zip(items, labels, strict=True):
        per_segment[it.segment][it.word] = int(lab)
    pieces: list[tuple[Segment, int]] = []
    for i, s in enumerate(segs):
        if s.speaker:
            pieces.append((s, -1))
            continue
        pieces.extend(split_segment(s, per_segment[i]))
    roles, clear, companion = _name_voices(_turn_texts([p for p in pieces if p[1] >= 0]))
    out = [s if v < 0 else s.model_copy(update={"speaker": roles[v], "role_source": "voice"}) for s, v in pieces]
    heard = len(roles)
    warnings = ([] if clear else [UNCERTAIN]) + ([COMPANION] if companion else [])
    if heard >= 3:
        warnings.insert(0, MANY_VOICES.format(n=heard))
    if heard == 1:
        return RoleResult(roles_by_turns(segs), [ONE_VOICE], 1)
    return RoleResult(out, warnings, heard)
