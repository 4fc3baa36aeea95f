"""Whose voice is each word: per-voice frame models and a Viterbi pass over the words.

Method: each voice found by clustering gets a diagonal Gaussian mixture (8 components, EM from a deterministic
start) over its MFCC frames and a Gaussian over its voiced log-pitch frames. A word's evidence for a voice is the
summed frame log-likelihood, divided by 10 (neighbouring 10 ms frames are far from independent). A Viterbi pass over
the words in time order pays ``SWITCH_COST`` to change voice (less across a pause, where people take turns), so a
voice changes at a word boundary only when the words after it clearly sound like someone else. Models are refitted
from the words' labels and the pass repeated (``ROUNDS``). Measured word-level role accuracy 0.99 on two-voice
consultations: see ``assign.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backend.domain.speakers.features import Frames

COMPONENTS = 8
EM_ITERS = 12
FRAME_STEP = 4  # every fourth frame is plenty to fit a model (and a quarter of the cost)
DECORRELATE = 10.0  # frames per independent observation
PITCH_WEIGHT = 3.0  # a voiced frame's pitch counts like this many cepstral frames
SWITCH_COST = 4.0  # nats to change voice between two words
PAUSE_SWITCH_COST = 1.5  # ... across a pause of at least PAUSE_S
PAUSE_S = 0.3
ROUNDS = 2
VAR_FLOOR = 1e-3


@dataclass(frozen=True)
class VoiceModel:
    """A diagonal GMM over MFCC frames and a Gaussian over log-pitch."""

    weights: NDArray[np.float64]
    means: NDArray[np.float64]
    variances: NDArray[np.float64]
    f0_mean: float
    f0_var: float


def _gauss_loglik(x: NDArray[np.float64], means: NDArray[np.float64], var: NDArray[np.float64]) -> NDArray[np.float64]:
    """(n, c) log densities of rows of x under each diagonal component."""
    inv = 1.0 / var
    quad = (x**2) @ inv.T - 2.0 * x @ (means * inv).T + ((means**2) * inv).sum(axis=1)
    return -0.5 * (quad + np.log(var).sum(axis=1) + x.shape[1] * np.log(2 * np.pi))


def fit_voice(mfcc: NDArray[np.float64], log_f0: NDArray[np.float64]) -> VoiceModel:
    """Fit one voice's model from its frames (EM; the start is evenly spaced frames sorted by c1: deterministic)."""
    x = mfcc[::FRAME_STEP]
    if len(x) < 2:  # no speech to learn from: a broad model that favours no one
        x = np.zeros((2, mfcc.shape[1]))
    c = min(COMPONENTS, max(1, len(x) // 20))
    order = np.argsort(x[:, 0], kind="stable")
    means = x[order[np.linspace(0, len(x) - 1, c).astype(int)]].copy()
    var = np.tile(x.var(axis=0) + VAR_FLOOR, (c, 1))
    weights = np.full(c, 1.0 / c)
    for _ in range(EM_ITERS):
        ll = _gauss_loglik(x, means, var) + np.log(weights)
        post = np.exp(ll - ll.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        nk = post.sum(axis=0) + 1e-9
        weights = nk / nk.sum()
        means = (post.T @ x) / nk[:, None]
        var = np.maximum((post.T @ x**2) / nk[:, None] - means**2, VAR_FLOOR)
    f0 = log_f0[~np.isnan(log_f0)]
    f0_mean = float(np.median(f0)) if f0.size else 0.0
    f0_var = float(max(f0.var(), 0.01**2)) if f0.size > 1 else 1.0
    return VoiceModel(weights, means, var, f0_mean, f0_var)


def frame_scores(model: VoiceModel, frames: Frames) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-frame log-likelihoods: (MFCC, pitch), 0 where a frame is a pause / unvoiced."""
    x = frames.mfcc.astype(np.float64)
    mf = np.zeros(len(x))
    s = frames.speech
    if s.any():
        ll = _gauss_loglik(x[s], model.means, model.variances) + np.log(model.weights)
        top = ll.max(axis=1)
        mf[s] = top + np.log(np.exp(ll - top[:, None]).sum(axis=1))
    f0 = frames.log_f0.astype(np.float64)
    voiced = ~np.isnan(f0)
    pitch = np.zeros(len(x))
    pitch[voiced] = -0.5 * ((f0[voiced] - model.f0_mean) ** 2 / model.f0_var + np.log(2 * np.pi * model.f0_var))
    return mf, pitch


def span_evidence(
    models: Sequence[VoiceModel], frames: Frames, spans: Sequence[tuple[float, float]]
) -> NDArray[np.float64]:
    """(n_spans, n_voices) evidence for each voice: summed frame log-likelihoods / ``DECORRELATE``."""
    cum = []
    for m in models:
        mf, pitch = frame_scores(m, frames)
        cum.append(np.concatenate(([0.0], np.cumsum(mf + PITCH_WEIGHT * pitch))))
    out = np.zeros((len(spans), len(models)))
    for i, (a, b) in enumerate(spans):
        ia, ib = frames.index(a), max(frames.index(b), frames.index(a) + 1)
        for v, c in enumerate(cum):
            out[i, v] = (c[min(ib, len(c) - 1)] - c[min(ia, len(c) - 1)]) / DECORRELATE
    # Only the differences between voices matter: centre each row so silence-only spans stay neutral.
    return out - out.mean(axis=1, keepdims=True)


def viterbi(evidence: NDArray[np.float64], gaps: NDArray[np.float64]) -> NDArray[np.int64]:
    """Best voice per span: evidence minus a cost for each change of voice (cheaper after a pause)."""
    n, k = evidence.shape
    if n == 0:
        return np.zeros(0, np.int64)
    score = evidence[0].copy()
    back = np.zeros((n, k), np.int64)
    for i in range(1, n):
        cost = PAUSE_SWITCH_COST if gaps[i] >= PAUSE_S else SWITCH_COST
        trans = score[:, None] - cost * (1 - np.eye(k))  # [from, to]
        back[i] = np.argmax(trans, axis=0)
        score = trans[back[i], np.arange(k)] + evidence[i]
    path = np.zeros(n, np.int64)
    path[-1] = int(np.argmax(score))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def label_spans(
    frames: Frames, spans: Sequence[tuple[float, float]], initial: Sequence[tuple[float, float, int]], voices: int
) -> NDArray[np.int64]:
    """Voice of each span (words in time order), starting from clustered stretches ``(start, end, voice)``."""
    gaps = np.array([0.0] + [max(0.0, spans[i][0] - spans[i - 1][1]) for i in range(1, len(spans))])
    assigned = list(initial)
    labels = np.zeros(len(spans), np.int64)
    for _ in range(ROUNDS):
        models = [_fit_from(frames, [(a, b) for a, b, v in assigned if v == j]) for j in range(voices)]
        labels = viterbi(span_evidence(models, frames, spans), gaps)
        assigned = [(a, b, int(v)) for (a, b), v in zip(spans, labels, strict=True)]
        if len(set(labels.tolist())) < voices:
            break  # a voice lost every word: keep the labels, do not fit an empty model
    return labels


def _fit_from(frames: Frames, spans: Sequence[tuple[float, float]]) -> VoiceModel:
    mask = np.zeros(len(frames.speech), bool)
    for a, b in spans:
        mask[frames.index(a) : frames.index(b)] = True
    mask &= frames.speech
    return fit_voice(frames.mfcc[mask].astype(np.float64), frames.log_f0[mask].astype(np.float64))
