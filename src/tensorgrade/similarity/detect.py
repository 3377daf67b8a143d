"""copydetect on in-memory sources: fingerprints per student (stable hashes), boilerplate removed, pairs scored."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
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


# Each student's most similar partners listed per exercise; a class where hundreds hand in the same
# code would otherwise list every pair (400 students: 362,512 pairs, 139 s and 3.8 GB, measured).
MAX_PARTNERS = 5


@dataclass(frozen=True)
class Comparison:
    """One exercise compared across the class: the pairs listed, and how many partners each student has."""

    pairs: list[Pair]
    partners: Counter  # student -> partners at or above the threshold (listed or not)

    def unlisted(self) -> dict[str, int]:
        """Student -> partners at or above the threshold that `pairs` does not list."""
        listed = Counter(s for p in self.pairs for s in (p.a, p.b))
        return {s: n - listed[s] for s, n in self.partners.items() if n > listed[s]}


def _scores(prints: dict[str, Fingerprint], threshold: float) -> list[tuple[float, str, str]]:
    """(similarity, a, b) of every pair at or above the threshold, most similar first.

    Students with the same code after filtering (names, comments and boilerplate gone) have the
    same fingerprint, so each distinct pair of fingerprints is compared once; fingerprints that
    share no hash cannot overlap and are not compared at all."""
    groups: dict[str, list[str]] = {}
    for student, fp in prints.items():
        if len(fp.hashes):
            groups.setdefault(fp.filtered_code, []).append(student)
    keys = list(groups)
    found = []
    for i, key_a in enumerate(keys):
        for key_b in keys[i:]:
            fa, fb = prints[groups[key_a][0]], prints[groups[key_b][0]]
            if key_a != key_b and fa.hashes.isdisjoint(fb.hashes):
                continue
            _, (sa, sb), _ = compare_files(fa, fb)
            score = float(max(sa, sb))
            if score < threshold:
                continue
            members = (itertools.combinations(groups[key_a], 2) if key_a == key_b
                       else itertools.product(groups[key_a], groups[key_b]))
            found += [(score, *sorted(pair)) for pair in members]
    return sorted(found, key=lambda f: (-f[0], f[1], f[2]))


def compare_class(exercise: str, sources: dict[str, str], boilerplate: list[str],
                  spec: SimilaritySpec) -> Comparison:
    """The pairs of students whose code for `exercise` is at least `spec.threshold` similar, most similar
    first, at most MAX_PARTNERS per student (the most similar first; a student whose partners are all
    full is still listed with one), with every student's count of partners at or above the threshold."""
    skip = boilerplate_hashes(boilerplate, spec)
    by_text = {t: fingerprint(t, spec, skip) for t in set(sources.values())}  # identical files: lexed once
    prints = {s: by_text[t] for s, t in sorted(sources.items())}
    found = _scores(prints, spec.threshold)
    partners = Counter(s for _, a, b in found for s in (a, b))
    listed: Counter = Counter()
    chosen = set()
    best: dict[str, tuple[float, str, str]] = {}  # each student's first (most similar) pair
    for score, a, b in found:  # most similar first: a pair is listed while both have room
        best.setdefault(a, (score, a, b))
        best.setdefault(b, (score, a, b))
        if listed[a] < MAX_PARTNERS and listed[b] < MAX_PARTNERS:
            chosen.add((score, a, b))
            listed[a] += 1
            listed[b] += 1
    chosen |= {best[s] for s in partners if not listed[s]}  # partners all full: named in their best pair
    pairs, compared = [], {}
    for score, a, b in sorted(chosen, key=lambda f: (-f[0], f[1], f[2])):
        texts = (prints[a].raw_code, prints[b].raw_code)  # each one's own text (compared once per pair of texts)
        if texts not in compared:
            compared[texts] = compare_files(prints[a], prints[b])
        _, (sa, sb), (slices_a, slices_b) = compared[texts]
        pairs.append(Pair(exercise, a, b, score, float(sa), float(sb), _ranges(slices_a), _ranges(slices_b)))
    return Comparison(pairs, partners)
