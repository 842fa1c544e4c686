"""Token counting on 100k examples: tiktoken vs HF batch vs HF one at a time vs a warm cache.

The examples are the bundled demo examples (or, before they exist, the real examples in
tests/fixtures/domain_ws) cycled to 100k, each made unique. The tokenizer is the bundled demo
tokenizer (data/tokenizer) unless `--model DIR` names another. Every engine counts the same
chat-template renderings, which are made once and timed on their own; then punie's own
`count_tokens` runs end to end (rendering, engine check, counting, cache write) cold, and again warm.
Goals: counts exact; first count no slower than the faster engine plus rendering; warm under 1 s.
Each timed step runs in every round (default 3, interleaved) and keeps its best time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _examples import base_examples  # noqa: E402

from punie_tui.core.dataset import load_dataset  # noqa: E402
from punie_tui.core.demo import bundled_data_dir  # noqa: E402
from punie_tui.core.tokens import (  # noqa: E402
    HFEngine,
    build_tiktoken,
    count_tokens,
    load_hf_tokenizer,
    pick_engine,
    render,
)

EXAMPLES = 100_000


def write_examples(path: Path, count: int) -> None:
    base = base_examples()
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            data = json.loads(json.dumps(base[i % len(base)]))
            for turn in data["messages"]:
                if turn.get("role") == "user":
                    turn["content"] = f"{turn['content']} (variant {i})"
                    break
            out.write(json.dumps(data, ensure_ascii=False) + "\n")


def timed(label: str, fn, rows: dict[str, float], runs: int = 1):
    """The best of `runs` timings of `fn` (a busy moment on the machine should not decide a ratio)."""
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        rows[label] = min(rows.get(label, float("inf")), time.perf_counter() - start)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=bundled_data_dir() / "tokenizer", help="tokenizer folder")
    parser.add_argument("--runs", type=int, default=3, help="rounds of the timed steps; each keeps its best (default 3)")
    args = parser.parse_args()
    if not (args.model / "tokenizer.json").exists():
        sys.exit(f"no tokenizer.json in {args.model}: build the demo data (data/tokenizer) or pass --model DIR")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "examples.jsonl"
        write_examples(path, EXAMPLES)
        records = load_dataset(path).records
        tokenizer = load_hf_tokenizer(args.model)
        rows: dict[str, float] = {}

        def render_all():
            return [render(tokenizer, r)[0] for r in records]
        tik = build_tiktoken(json.loads(tokenizer.backend_tokenizer.to_str()))
        hf = HFEngine(tokenizer)
        cache = Path(tmp) / ".punie"

        def cold_count():
            shutil.rmtree(cache, ignore_errors=True)
            return count_tokens(records, args.model, cache)

        # Rounds alternate the timings; each keeps its best.
        for _ in range(args.runs):
            texts = timed("render the chat template (once, shared by all engines)", render_all, rows)
            by_tiktoken = timed("tiktoken (a thread per core)", lambda: tik.count(texts), rows)
            by_hf_batch = timed("HF batch (encode_batch_fast, threaded)", lambda: hf.count(texts), rows)
            cold = timed("punie count_tokens, cold (render + check + count + cache write)", cold_count, rows)
            warm = timed("punie count_tokens, warm (cache)", lambda: count_tokens(records, args.model, cache), rows)
        by_hf_single = timed(
            "HF one at a time (tokenizer(text) per example)",
            lambda: [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts],
            rows,
        )
        timed("engine check (probes + 256-text sample vs HF)", lambda: pick_engine(tokenizer, texts[:: len(texts) // 256]), rows)

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
    print(f"{EXAMPLES} examples, tokenizer {args.model}, {sum(by_hf_batch)} tokens in all")
    print(f"best of {args.runs} rounds (HF one at a time and the engine check: one run)")
    width = max(len(label) for label in rows)
    single = rows["HF one at a time (tokenizer(text) per example)"]
    for label, seconds in rows.items():
        print(f"{label:<{width}}  {seconds:7.2f} s   {single / seconds:6.1f}x HF one at a time")
    exact_tik = sum(a == b for a, b in zip(by_tiktoken, by_hf_batch))
    exact_single = sum(a == b for a, b in zip(by_hf_single, by_hf_batch))
    print(f"tiktoken equal to HF on {exact_tik}/{EXAMPLES} examples; HF one at a time on {exact_single}/{EXAMPLES}")
    print(f"punie picked {cold.engine}: {cold.reason}")
    print(f"punie's counts equal to HF on {sum(a == b for a, b in zip(cold.counts, by_hf_batch))}/{EXAMPLES}; "
          f"warm re-count from the cache: {warm.engine}, {warm.cached} cached")
    faster = min(rows["tiktoken (a thread per core)"], rows["HF batch (encode_batch_fast, threaded)"])
    rendering = rows["render the chat template (once, shared by all engines)"]
    cold_seconds = rows["punie count_tokens, cold (render + check + count + cache write)"]
    print(f"first count vs rendering + faster engine: {cold_seconds:.2f} s vs {rendering + faster:.2f} s "
          f"(ratio {cold_seconds / (rendering + faster):.2f}); warm re-count "
          f"{rows['punie count_tokens, warm (cache)']:.2f} s (goal < 1 s)")


if __name__ == "__main__":
    main()
