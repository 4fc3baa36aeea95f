"""How many voices, and which stretch of speech is whose: clustering of span vectors.

Method: each stretch of speech (a run of words up to ~2 s) is a vector of mean MFCCs and median log-pitch
(``features.span_vector``), standardised over the recording, pitch weighted up (pitch is the cue least tied to
what is being said), projected on its 6 leading principal directions (a few dozen stretches cannot support a
covariance in 20 dimensions). Weighted k-means (k-means++ seeded, several restarts: deterministic) gives 2 and 3
groups. k groups are k voices when every pair is at least ``SEPARATION[k]`` apart in Mahalanobis distance under
their pooled within-group covariance (splitting one voice's speech in two gives about 2.7, the halves of a Gaussian)
and each holds at least ``MIN_SHARE[k]`` of the speech. Measured on 80 synthetic recordings of 1, 2 and 3 espeak-ng
voices (10 voices and variants, 1-5 min each; 16 are the ACI-Bench consultations): the count is right for 27/28
one-voice, 36/40 two-voice (3 called one voice: two British male voices, or Scottish vs Caribbean) and 9/12
three-voice recordings (3 called two voices). The thresholds were chosen on these same recordings: in-sample figures.

Those recordings hold hundreds of stretches. A short one holds a few dozen, and k-means then splits even one voice
into groups that look far apart (its within-group covariance comes from a handful of stretches): a 31 s recording of
one voice scored 5.7 for three groups and was reported as "3 voices". So the required distance grows as the stretches
get fewer, by how much farther apart chance makes the groups at that count: the 95th percentile of the same measure
on k-means groups of that many Gaussian vectors of one source (seeded simulation, ``chance_separation``), minus its
value for many stretches, added to ``SEPARATION[k]``. Long recordings keep their thresholds; at 20 stretches three
groups need about 7.3 instead of 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

PITCH_WEIGHT = 3.0
SEPARATION = (0.0, 0.0, 4.0, 5.0)  # by k: Mahalanobis distance every pair of k groups must reach
MIN_SHARE = (0.0, 0.0, 0.1, 0.1)  # by k: share of speech each of k groups needs to count as a voice
COMPONENTS = 6  # principal directions kept: few spans cannot support a covariance in more dimensions
MIN_SECONDS = 2.0  # ... and at least this much speech
SHRINK = 0.2  # covariance shrinkage toward its diagonal: few spans, many dimensions
RESTARTS = 6
SEED = 0
CHANCE_QUANTILE = 0.95  # how far apart groups of one voice may be by chance at a given number of stretches
CHANCE_DRAWS = 40
CHANCE_DIM = 20  # span vectors: 19 cepstral means + log-pitch
MANY_SPANS = 400  # beyond this many stretches, chance adds nothing worth the simulation
_SPAN_GRID = (6, 8, 10, 12, 15, 18, 22, 27, 33, 40, 50, 62, 77, 95, 120, 150, 190, 240, 300, 400)


@dataclass(frozen=True)
class Clustering:
    """Voices found: a label per span (0..count-1) and the separations that decided the count."""

    labels: NDArray[np.int64]
    count: int
    separations: tuple[float, ...]  # pairwise distances of the accepted grouping (empty for one voice)


def standardise(vectors: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Zero mean, unit spread per column (weighted by speech duration); the last column (pitch) weighted up."""
    w = weights / weights.sum()
    mean = w @ vectors
    std = np.sqrt(w @ (vectors - mean) ** 2) + 1e-9
    x = (vectors - mean) / std
    x[:, -1] *= PITCH_WEIGHT
    # The leading principal directions of the weighted spread: where two voices differ, if there are two.
    cov = (x * w[:, None]).T @ x
    _, vecs = np.linalg.eigh(cov)
    return x @ vecs[:, ::-1][:, :COMPONENTS]


def kmeans(x: NDArray[np.float64], w: NDArray[np.float64], k: int) -> tuple[NDArray[np.int64], float]:
    """Weighted k-means, best of ``RESTARTS`` seeded k-means++ starts: (labels, inertia)."""
    rng = np.random.default_rng(SEED)
    best: tuple[NDArray[np.int64], float] | None = None
    for _ in range(RESTARTS):
        centres = [x[rng.choice(len(x), p=w / w.sum())]]
        for _ in range(1, k):
            d = np.min([((x - c) ** 2).sum(axis=1) for c in centres], axis=0) * w
            centres.append(x[rng.choice(len(x), p=d / d.sum())] if d.sum() > 0 else x[0])
        c = np.array(centres)
        labels = np.zeros(len(x), np.int64)
        for _ in range(100):
            new = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)
            if np.array_equal(new, labels) and _ > 0:
                break
            labels = new
            for j in range(k):
                m = labels == j
                if m.any():
                    c[j] = (w[m] @ x[m]) / w[m].sum()
        inertia = float((w * ((x - c[labels]) ** 2).sum(axis=1)).sum())
        if best is None or inertia < best[1] - 1e-9:
            best = (labels, inertia)
    assert best is not None
    return best


def separation(x: NDArray[np.float64], w: NDArray[np.float64], a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    """Mahalanobis distance between two groups' weighted means under their pooled (shrunk) covariance."""

    def stats(m: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        ww = w[m] / w[m].sum()
        mu = ww @ x[m]
        d = x[m] - mu
        return mu, (d * ww[:, None]).T @ d, float(m.sum())

    mu_a, cov_a, n_a = stats(a)
    mu_b, cov_b, n_b = stats(b)
    pooled = (n_a * cov_a + n_b * cov_b) / (n_a + n_b)
    pooled = (1 - SHRINK) * pooled + SHRINK * np.diag(np.diag(pooled)) + 1e-6 * np.eye(len(mu_a))
    diff = mu_a - mu_b
    return float(np.sqrt(diff @ np.linalg.solve(pooled, diff)))


def _accept(x: NDArray[np.float64], w: NDArray[np.float64], labels: NDArray[np.int64], k: int) -> tuple[float, ...]:
    """Pairwise separations when every group is a real voice (enough speech, far enough apart), else ()."""
    total = w.sum()
    for j in range(k):
        share = w[labels == j].sum()
        if share < MIN_SHARE[k] * total or share < MIN_SECONDS or (labels == j).sum() < 3:
            return ()
    seps = tuple(separation(x, w, labels == i, labels == j) for i in range(k) for j in range(i + 1, k))
    return seps if min(seps) >= required_separation(len(x), k) else ()


@lru_cache(maxsize=64)
def chance_separation(n: int, k: int) -> float:
    """How far apart k-means makes ``k`` groups of ``n`` spans of one voice by chance (``CHANCE_QUANTILE``).

    Simulated on seeded standard Gaussian vectors with stretch-like weights, through the same standardising,
    k-means and distance as real spans: deterministic, and cached (a recording asks for one or two counts).
    """
    rng = np.random.default_rng(SEED + 1000 * n + k)
    found = []
    for _ in range(CHANCE_DRAWS):
        w = rng.uniform(0.5, 2.0, n)
        x = standardise(rng.standard_normal((n, CHANCE_DIM)), w)
        labels, _ = kmeans(x, w, k)
        groups = [labels == j for j in range(k) if (labels == j).sum() > 1]
        pairs = [separation(x, w, a, b) for i, a in enumerate(groups) for b in groups[i + 1 :]]
        found.append(min(pairs) if len(groups) == k else 0.0)
    return float(np.quantile(found, CHANCE_QUANTILE))


def required_separation(n: int, k: int) -> float:
    """The distance every pair of ``k`` groups of ``n`` spans must reach to count as ``k`` voices.

    ``SEPARATION[k]`` (set on recordings of hundreds of stretches) plus what chance adds at fewer stretches; ``n``
    is rounded down to a grid so a process simulates a few counts only.
    """
    if n >= MANY_SPANS:
        return SEPARATION[k]
    grid = max((g for g in _SPAN_GRID if g <= n), default=_SPAN_GRID[0])
    return SEPARATION[k] + max(0.0, chance_separation(grid, k) - chance_separation(MANY_SPANS, k))


def cluster_voices(vectors: NDArray[np.float64], seconds: NDArray[np.float64], max_voices: int = 3) -> Clustering:
    """Group spans by voice and decide how many voices there are (1 .. ``max_voices``).

    Args:
        vectors: one row per span (``features.span_vector``).
        seconds: speech duration of each span (its weight).
        max_voices: the most voices to look for.

    Returns:
        Labels ordered by speech time (voice 0 speaks most).
    """
    n = len(vectors)
    if n < 6:
        return Clustering(np.zeros(n, np.int64), 1, ())
    x = standardise(vectors, seconds)
    found = Clustering(np.zeros(n, np.int64), 1, ())
    for k in range(2, max_voices + 1):
        labels, _ = kmeans(x, seconds, k)
        seps = _accept(x, seconds, labels, k)
        if not seps:
            break
        found = Clustering(labels, k, seps)
    order = np.argsort([-seconds[found.labels == j].sum() for j in range(found.count)], kind="stable")
    rank = np.empty(found.count, np.int64)
    rank[order] = np.arange(found.count)
    return Clustering(rank[found.labels], found.count, found.separations)
