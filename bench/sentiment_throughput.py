"""Throughput of sentiment scoring: serviceloop's analyser against plain VADER on the same texts.

    .venv/bin/python bench/sentiment_throughput.py [--texts 100000] [--workers 2]

Builds N texts by sampling the labelled feedback set with a seeded RNG, then measures, in one run:

1. plain VADER ``polarity_scores`` (the baseline),
2. ``score_texts`` in one process,
3. ``score_texts`` in a process pool (chunks, order preserved) — to show what a pool would buy,
4. ``run_sentiment`` end to end (read a file, score, write CSV), as ``serviceloop sentiment`` runs.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from serviceloop.feedback.sentiment import load_labelled_feedback, score_text, score_texts
from serviceloop.feedback.sentiment_cli import run_sentiment

SEED = 20261125
CHUNK = 5_000


def sample_texts(count: int) -> list[str]:
    texts = [text for text, _ in load_labelled_feedback()]
    rng = random.Random(SEED)
    return [rng.choice(texts) for _ in range(count)]


def timed(action: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` runs: the least disturbed by whatever else the machine is doing."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def _score_chunk(chunk: list[str]) -> list[float]:
    return [result.score for result in score_texts(chunk)]


def score_in_pool(texts: list[str], workers: int) -> list[float]:
    chunks = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [score for part in pool.map(_score_chunk, chunks) for score in part]


def run_cli_on_file(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as source:
        return run_sentiment(source=source, output=io.StringIO(), column=None, progress=False)


def line(name: str, count: int, seconds: float, baseline: float | None = None) -> str:
    ratio = f"  {baseline / seconds:5.2f}x baseline" if baseline else ""
    return f"{name:<50} {count / seconds:>9,.0f} texts/s  {seconds:6.2f} s{ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best counts")
    args = parser.parse_args()

    texts = sample_texts(args.texts)
    vader = SentimentIntensityAnalyzer()
    score_text("warm-up")  # builds the analyser once, as the first call in a process does

    r = args.repeat
    vader_s = timed(lambda: [vader.polarity_scores(text)["compound"] for text in texts], r)
    ours_s = timed(lambda: list(score_texts(texts)), r)
    pool_s = timed(lambda: score_in_pool(texts, args.workers), r)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "texts.txt"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        cli_s = timed(lambda: run_cli_on_file(path), r)

    n = len(texts)
    print(f"{n:,} texts sampled from the labelled set (seed {SEED}); pool of {args.workers}; best of {r} runs each")
    print(line("plain VADER polarity_scores (baseline)", n, vader_s))
    print(line("serviceloop score_texts, 1 process", n, ours_s, vader_s))
    print(line(f"serviceloop score_texts, pool of {args.workers}", n, pool_s, vader_s))
    print(line("run_sentiment end to end (file -> CSV), 1 process", n, cli_s, vader_s))


if __name__ == "__main__":
    main()
