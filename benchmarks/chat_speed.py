"""Chat speed: tokens/s and time to first token through punie's in-process MLX model (pydantic-ai
streaming, stop-sequence and tool-marker handling, a generation thread) against bare
`mlx_lm.stream_generate` on the same rendered prompt and the same loaded model, greedy, so both
generate the same tokens. Runs are interleaved; medians compared (goals: >= 0.95x tokens/s, first
token within 50 ms of bare).

    python benchmarks/chat_speed.py [--model DIR] [--max-tokens N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PROMPT = "List the Python files under punie_tui and say which one defines the CLI."


def bare_run(model, tokenizer, prompt_tokens: list[int], max_tokens: int) -> tuple[float, float, int]:
    """Time to first token, tokens/s after it, tokens: mlx-lm alone."""
    from mlx_lm import stream_generate
    from mlx_lm.sample_utils import make_sampler

    start = time.perf_counter()
    first = None
    count = 0
    for item in stream_generate(model, tokenizer, prompt_tokens, max_tokens=max_tokens, sampler=make_sampler(temp=0.0)):
        if first is None:
            first = time.perf_counter()
        count = item.generation_tokens
    end = time.perf_counter()
    return first - start, (count - 1) / (end - first) if count > 1 else 0.0, count


async def punie_run(punie_model, messages, parameters, max_tokens: int) -> tuple[float, float, int]:
    """The same through punie's pydantic-ai model: from the request to its first and last events."""
    settings = {"temperature": 0.0, "max_tokens": max_tokens}
    start = time.perf_counter()
    first = None
    async with punie_model.request_stream(messages, settings, parameters) as stream:
        async for _ in stream:
            if first is None:
                first = time.perf_counter()
        response = stream.get()
    end = time.perf_counter()
    count = response.usage.output_tokens
    return first - start, (count - 1) / (end - first) if count > 1 else 0.0, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="MLX model folder (default: the untrained demo model)")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from pydantic_ai.messages import ModelRequest, SystemPromptPart, UserPromptPart
    from pydantic_ai.models import ModelRequestParameters

    from punie_tui.core.chat.mlx_model import MlxModel, ModelSource

    if args.model is None:
        from punie_tui.core.demo_model import ensure_demo_model

        args.model = ensure_demo_model()
    punie_model = MlxModel(ModelSource(args.model.resolve()))
    model, tokenizer = punie_model.load()
    messages = [ModelRequest(parts=[SystemPromptPart("You are punie."), UserPromptPart(PROMPT)])]
    parameters = ModelRequestParameters()
    prompt = punie_model.render_prompt(messages, [])
    prompt_tokens = tokenizer.encode(prompt, add_special_tokens=False)

    def bare() -> tuple[float, float, int]:
        # Bare generation on the model's own thread, where its arrays live, like punie's.
        return punie_model.submit(bare_run, model, tokenizer, prompt_tokens, args.max_tokens).result()

    bare()  # warm-up: kernels compile on first use
    asyncio.run(punie_run(punie_model, messages, parameters, args.max_tokens))
    bare_times, punie_times = [], []
    for _ in range(args.runs):
        bare_times.append(bare())
        punie_times.append(asyncio.run(punie_run(punie_model, messages, parameters, args.max_tokens)))
    punie_model.close()

    def median(rows, index):
        return statistics.median(row[index] for row in rows)

    ttft_bare, ttft_punie = median(bare_times, 0) * 1000, median(punie_times, 0) * 1000
    tps_bare, tps_punie = median(bare_times, 1), median(punie_times, 1)
    print(f"model {args.model}  prompt {len(prompt_tokens)} tokens  generated {bare_times[0][2]} (bare) / {punie_times[0][2]} (punie) tokens  runs {args.runs}")
    print(f"{'':22}{'bare mlx-lm':>14}{'punie model':>14}{'ratio/diff':>14}")
    print(f"{'tokens/s':22}{tps_bare:14.1f}{tps_punie:14.1f}{tps_punie / tps_bare:13.3f}x   goal >= 0.95x")
    print(f"{'first token (ms)':22}{ttft_bare:14.1f}{ttft_punie:14.1f}{ttft_punie - ttft_bare:+13.1f}ms  goal <= +50 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
