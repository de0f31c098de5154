"""Writes the feedback classifier's word list (layers/shared/python/loyalty/feedback/words.txt): the most
frequent words of jieba's own dictionary, in jieba's format.

    .venv/bin/python -m bench.feedback_dictionary            # --size 60000

jieba's full dictionary (349,046 words, 5 MB) takes about a second to load into a fresh process; the
60,000 most frequent words load in about a tenth of that and cut retail feedback the same way, and the
configured keywords are added to it when the classifier first runs (see loyalty/feedback/segment.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "layers/shared/python/loyalty/feedback/words.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=60000)
    args = parser.parse_args()
    import jieba

    source = Path(jieba.__file__).with_name("dict.txt")
    rows = [line.split() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda row: (-int(row[1]), row[0]))
    TARGET.write_text("".join(f"{word} {freq}\n" for word, freq, *_ in rows[:args.size]), encoding="utf-8")
    print(f"{TARGET.relative_to(TARGET.parents[5])}: {min(args.size, len(rows))} of {len(rows)} words")


if __name__ == "__main__":
    main()
