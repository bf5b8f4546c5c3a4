"""Quality of serviceloop's sentiment analyser against plain VADER, on our labelled feedback set.

    .venv/bin/python bench/sentiment_quality.py [--errors]

The labelled set is split by a hash of each text (``is_held_out``) into a tuning part (70 %) and a
held-out part (30 %). The lexicon is tuned by looking at the tuning part only; the held-out figures
are the ones to quote. Plain VADER (its own lexicon, no phrase pass) is the baseline, measured in
the same run with the same cut-offs (DOMAIN §2: ±0.2); VADER's customary ±0.05 is shown beside it.

``--errors`` lists the analyser's mistakes on the *tuning* part, never the held-out one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from serviceloop.feedback.sentiment import (
    ANALYSER_VERSION,
    LABELS,
    Evaluation,
    Label,
    Thresholds,
    evaluate,
    evaluate_predictions,
    is_held_out,
    label_for,
    load_labelled_feedback,
    score_text,
)

Examples = Sequence[tuple[str, Label]]


def plain_vader_evaluation(examples: Examples, thresholds: Thresholds) -> Evaluation:
    vader = SentimentIntensityAnalyzer()
    return evaluate_predictions(
        (gold, label_for(vader.polarity_scores(text)["compound"], thresholds)) for text, gold in examples
    )


def comparison(title: str, rows: list[tuple[str, Evaluation]]) -> str:
    width = max(len(name) for name, _ in rows)
    groups = "  ".join(f"{label.value:^22}" for label in LABELS)
    columns = "  ".join(f"{'P':>6}{'R':>8}{'F1':>8}" for _ in LABELS)
    lines = [
        title,
        f"{'':<{width}}  {groups}".rstrip(),
        f"{'':<{width}}  {columns}  {'macro-F1':>8}  {'accuracy':>8}",
    ]
    for name, ev in rows:
        cells = "  ".join(
            f"{ev.per_class[label].precision:>6.3f}{ev.per_class[label].recall:>8.3f}{ev.per_class[label].f1:>8.3f}"
            for label in LABELS
        )
        lines.append(f"{name:<{width}}  {cells}  {ev.macro_f1:>8.3f}  {ev.accuracy:>8.3f}")
    return "\n".join(lines)


def report(name: str, examples: Examples) -> tuple[float, float]:
    default = Thresholds()
    baseline = plain_vader_evaluation(examples, default)
    vader_customary = plain_vader_evaluation(examples, Thresholds(positive=0.05, negative=-0.05))
    ours = evaluate(examples, default)
    counts = ", ".join(f"{label.value} {sum(1 for _, gold in examples if gold == label)}" for label in LABELS)
    print(
        comparison(
            f"== {name}: {len(examples)} texts ({counts})",
            [
                ("plain VADER ±0.2 (baseline)", baseline),
                ("plain VADER ±0.05", vader_customary),
                (f"serviceloop {ANALYSER_VERSION} ±0.2", ours),
            ],
        )
    )
    ratio = ours.macro_f1 / baseline.macro_f1 if baseline.macro_f1 else float("inf")
    print(f"macro-F1 ours / baseline: {ratio:.2f}x\n")
    return baseline.macro_f1, ours.macro_f1


def print_errors(examples: Examples, score: Callable[[str], float]) -> None:
    for text, gold in examples:
        value = score(text)
        predicted = label_for(value, Thresholds())
        if predicted != gold:
            print(f"{gold.value:>8} <- {predicted.value:<8} {value:+.3f}  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list mistakes on the tuning part")
    args = parser.parse_args()

    examples = load_labelled_feedback()
    tuning = [example for example in examples if not is_held_out(example[0])]
    held_out = [example for example in examples if is_held_out(example[0])]
    if args.errors:
        print_errors(tuning, lambda text: score_text(text).score)
        return
    print(f"analyser {ANALYSER_VERSION}; thresholds {Thresholds()}\n")
    report("held-out part (never used for tuning)", held_out)
    report("tuning part", tuning)
    report("full set", examples)


if __name__ == "__main__":
    main()
