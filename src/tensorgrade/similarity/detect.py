"""copydetect on in-memory sources: fingerprints per student (stable hashes), boilerplate removed, pairs scored."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np
from copydetect import compare_files
from copydetect.utils import filter_code, get_token_coverage, winnow

from tensorgrade.spec.models import SimilaritySpec


@dataclass(frozen=True)
class Pair:
    exercise: str
    a: str
    b: str
    similarity: float  # the larger of the two shares of each one's code found in the other (0..1)
    share_a: float
    share_b: float
    slices_a: tuple[tuple[int, int], ...] = ()  # character ranges of a's source found in b
    slices_b: tuple[tuple[int, int], ...] = ()


@dataclass
class Fingerprint:
    """What copydetect's `compare_files` reads from a CodeFingerprint, built with a stable hash."""

    k: int
    raw_code: str
    filtered_code: str
    offsets: np.ndarray
    hashes: set
    hash_idx: dict
    token_coverage: float


def stable_kgrams(text: str, k: int) -> np.ndarray:
    """Hashes of every k-gram that are the same in every process (copydetect's use `hash()`, which
    PYTHONHASHSEED changes per run: scores would differ between two runs on the same class)."""
    return np.array([int.from_bytes(hashlib.blake2b(text[i:i + k].encode("utf-8", "surrogatepass"),
                                                    digest_size=8).digest(), "little", signed=True)
                     for i in range(len(text) - k + 1)], dtype=np.int64)


def fingerprint(text: str, spec: SimilaritySpec, boilerplate: np.ndarray | None = None,
                window: int | None = None) -> Fingerprint:
    """copydetect's tokens (names -> V, F, O; strings -> S; comments dropped) winnowed as it does."""
    window = window or spec.guarantee_tokens - spec.noise_tokens + 1
    k = spec.noise_tokens
    filtered, offsets = filter_code(text, "submission.py", "python")
    hashes, idx = winnow(stable_kgrams(filtered, k), window, False) if len(filtered) >= k else ([], [])
    hashes, idx = np.asarray(hashes, dtype=np.int64), np.asarray(idx, dtype=np.int64)
    if boilerplate is not None and len(boilerplate) and len(hashes):
        keep = ~np.isin(hashes, boilerplate)
        hashes, idx = hashes[keep], idx[keep]
    by_hash: dict = {}
    for h, i in zip(hashes.tolist(), idx.tolist()):
        by_hash.setdefault(h, []).append(i)
    return Fingerprint(k, text, filtered, offsets, set(by_hash), by_hash,
                       get_token_coverage(by_hash, k, len(filtered)))


def boilerplate_hashes(texts: list[str], spec: SimilaritySpec) -> np.ndarray:
    """Every k-gram of the boilerplate (window 1, as copydetect does), so no shared starter code survives."""
    hashes = [h for t in texts for h in fingerprint(t, spec, window=1).hashes]
    return np.unique(np.array(hashes, dtype=np.int64))


def _ranges(slices) -> tuple[tuple[int, int], ...]:
    if len(slices) < 2 or len(slices[0]) == 0:
        return ()
    return tuple((int(s), int(e)) for s, e in zip(slices[0], slices[1]))


def compare_class(exercise: str, sources: dict[str, str], boilerplate: list[str],
                  spec: SimilaritySpec) -> list[Pair]:
    """Every pair of students whose code for `exercise` is at least `spec.threshold` similar, most similar first."""
    skip = boilerplate_hashes(boilerplate, spec)
    prints = {s: fingerprint(t, spec, skip) for s, t in sorted(sources.items())}
    pairs = []
    for a, b in itertools.combinations(prints, 2):
        fa, fb = prints[a], prints[b]
        if len(fa.hashes) == 0 or len(fb.hashes) == 0:
            continue
        _, (sa, sb), (slices_a, slices_b) = compare_files(fa, fb)
        score = float(max(sa, sb))
        if score >= spec.threshold:
            pairs.append(Pair(exercise, a, b, score, float(sa), float(sb), _ranges(slices_a), _ranges(slices_b)))
    return sorted(pairs, key=lambda p: (-p.similarity, p.a, p.b))
