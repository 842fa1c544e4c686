"""Token counts of what training sees: each example rendered by the tokenizer's own chat template,
counted with that tokenizer, cached per example content hash in `.punie/`.

Two counting engines give the same numbers: the Hugging Face tokenizer (batch encoding), and a
tiktoken encoding built from the tokenizer's byte-level BPE `tokenizer.json`. tiktoken is used only
when it counts exactly like the HF tokenizer on probe strings and on a sample of the texts at hand;
otherwise, and for tokenizers it cannot express, the HF tokenizer counts. Both count batches on a
thread per core, without the GIL, while the calling thread renders the next batches.
transformers and tiktoken are imported inside functions: this module is loaded by commands only.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from punie_tui.core.atomic import atomic_write_text
from punie_tui.core.dataset import Record, gc_paused
from punie_tui.core.labels import content_hash
from punie_tui.core.parallel import in_parts, shares, usable_cores

# Files whose content decides how an example is rendered and split into tokens.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "chat_template.json", "special_tokens_map.json")
SAMPLE_SIZE = 256
# A special token of punie's own that separates texts encoded in one tiktoken call.
COUNT_SEPARATOR = "<|punie-count-separator|>"
# Fewer examples than this are not worth a forked process (about 0.1 s of rendering).
MIN_FORKED_PART = 2000
# Texts counted per call of an engine: big enough to amortise the call, small enough to overlap.
BATCH = 500
T = TypeVar("T")
# Strings where a converted tokenizer tends to differ: Unicode normalisation, scripts, digits,
# contractions, whitespace runs and line ends, and added tokens glued to text.
PROBES = (
    "I'LL say it's fine, we'd've known.\r\n\r\n\t  x",
    "Cafe\u0301 na\u0308ive \u00c5ngstro\u0308m \ufb01le \u2160 \uff21\uff22",
    "\u4f60\u597d\uff0c\u4e16\u754c\u3002\u3053\u3093\u306b\u3061\u306f \ud55c\uad6d\uc5b4 \u0645\u0631\u062d\u0628\u0627 \U0001f600\U0001f44d\U0001f3fd",
    "x = 1234567890 + 3.14e-10; print(f'{x!r:>10}')\n    return [a_b, cD]  # \u00e9t\u00e9",
    "<|im_start|>user\nhi<|im_end|>\n<tool_call>\n{\"name\": \"read_file\"}\n</tool_call>a<|im_end|>",
    "   leading and trailing   \n\n\n   ",
)


class TokenizerError(Exception):
    """A tokenizer that cannot be found or loaded; the message names it."""


def tokenizer_fingerprint(folder: Path) -> str:
    """A digest of the tokenizer files, so cached counts are never reused across tokenizers."""
    digest = hashlib.sha256()
    for name in TOKENIZER_FILES:
        path = folder / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def resolve_tokenizer(model: str) -> Path:
    """A local folder holding the tokenizer of `model` (a folder, or a Hugging Face id)."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "tokenizer.json").exists() and not (path / "tokenizer_config.json").exists():
            raise TokenizerError(f"{path}: no tokenizer.json or tokenizer_config.json in this folder")
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model, allow_patterns=list(TOKENIZER_FILES) + ["*.model", "vocab.*", "merges.txt"]))
    except Exception as exc:  # the hub raises many kinds (offline, unknown repo, gated)
        raise TokenizerError(f"{model}: not a folder, and its tokenizer could not be fetched: {exc}") from exc


def load_hf_tokenizer(folder: Path) -> Any:
    # Only tokenizers are needed; transformers' warning that PyTorch is missing is noise here.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise TokenizerError(f"{folder}: cannot load the tokenizer: {exc}") from exc


# Rendering ----------------------------------------------------------------------------------

def _chat_turns(record: Record) -> list[dict[str, Any]]:
    if record.shape == "prompt-completion":
        return [
            {"role": "user", "content": record.data["prompt"]},
            {"role": "assistant", "content": record.data["completion"]},
        ]
    return record.turns()


def render(tokenizer: Any, record: Record) -> tuple[str, int]:
    """The text training tokenizes for this record, and the tokens mlx-lm adds to it (an EOS)."""
    if record.shape == "text":
        text = record.data["text"]
        eos = tokenizer.eos_token or ""
        return text, 0 if eos and text.endswith(eos) else 1
    tools = record.data.get("tools") if isinstance(record.data.get("tools"), list) else None
    return tokenizer.apply_chat_template(_chat_turns(record), tools=tools, tokenize=False), 0


def countable(record: Record) -> bool:
    return record.data is not None and record.shape in ("messages", "text", "prompt-completion", "raw-distill")


# Engines ------------------------------------------------------------------------------------

def _bytes_to_unicode() -> dict[str, int]:
    """GPT-2's byte-level alphabet: the character standing for each byte in tokenizer.json."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), ord("\xff") + 1)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(char): byte for byte, char in zip(printable, chars)}


GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _pre_tokenizer_pattern(spec: dict[str, Any] | None) -> str:
    """The split pattern of a byte-level pre-tokenizer; ValueError for any other kind."""
    if spec and spec.get("type") == "ByteLevel":
        if spec.get("add_prefix_space") or not spec.get("use_regex", True):
            raise ValueError("ByteLevel pre-tokenizer with add_prefix_space or without its regex")
        return GPT2_PATTERN
    if spec and spec.get("type") == "Sequence":
        parts = spec.get("pretokenizers", [])
        if (
            len(parts) == 2
            and parts[0].get("type") == "Split"
            and parts[0].get("behavior") == "Isolated"
            and not parts[0].get("invert")
            and "Regex" in parts[0].get("pattern", {})
            and parts[1].get("type") == "ByteLevel"
            and not parts[1].get("add_prefix_space")
            and not parts[1].get("use_regex", True)
        ):
            return parts[0]["pattern"]["Regex"]
    raise ValueError(f"pre-tokenizer {spec and spec.get('type')!r} is not a plain byte-level split")


def _normalizer(spec: dict[str, Any] | None) -> str | None:
    if spec is None:
        return None
    if spec.get("type") in ("NFC", "NFKC", "NFD", "NFKD"):
        return spec["type"]
    raise ValueError(f"normalizer {spec.get('type')!r} has no tiktoken equivalent")


def _chunks(texts: Sequence[str], size: int = BATCH) -> list[list[str]]:
    # Only lengths are kept: encoding 100k long examples at once would hold every token id
    # (gigabytes) before the first length is taken.
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


def count_batches(engine: _Engine, batches: Iterable[tuple[T, list[str]]]) -> Iterator[tuple[T, list[int]]]:
    """Count batches of texts on one thread per core, in order, while `batches` is still producing.

    Both engines encode in Rust without the GIL, so the caller's thread can render the next
    batches (Python, holding the GIL) while earlier ones are counted. At most two batches per
    thread wait, so rendering far ahead never holds every text in memory.
    """
    threads = usable_cores()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="count") as pool:
        waiting: deque[tuple[T, Future[list[int]]]] = deque()
        for tag, texts in batches:
            waiting.append((tag, pool.submit(engine.count_batch, texts)))
            while len(waiting) > 2 * threads:
                tag, future = waiting.popleft()
                yield tag, future.result()
        while waiting:
            tag, future = waiting.popleft()
            yield tag, future.result()


class _Engine:
    """What both engines share: a batch counted by `count_batch`, many texts by batches on every core."""

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        raise NotImplementedError

    def count(self, texts: Sequence[str]) -> list[int]:
        return [n for _, counts in count_batches(self, ((None, chunk) for chunk in _chunks(texts))) for n in counts]


@dataclass
class TiktokenEngine(_Engine):
    """tiktoken over a byte-level BPE: merge order as ranks, added tokens as specials."""

    encoding: Any
    normalizer: str | None

    name = "tiktoken"

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        """Count in the calling thread, with one encode call for the whole batch.

        The texts are joined by a special token of punie's own, which no text contains: tiktoken
        never merges tokens across a special token, so the tokens between two separators are
        exactly one text's. One call releases the GIL once for the batch; a call per text had to
        win the GIL back after each text from a thread that renders, and waited most of the time.
        """
        if self.normalizer:
            texts = [unicodedata.normalize(self.normalizer, text) for text in texts]
        encode, special = self.encoding.encode, self.encoding.special_tokens_set
        if not texts or any(COUNT_SEPARATOR in text for text in texts):
            # In a text, the separator's characters are text, as the HF tokenizer reads them.
            own = special - {COUNT_SEPARATOR}
            return [len(encode(text, allowed_special=own, disallowed_special=())) for text in texts]
        import numpy as np

        # A numpy array, not a list: building a list of ~10^5 ints per batch needs the GIL.
        ids = self.encoding.encode_to_numpy(COUNT_SEPARATOR.join(texts), allowed_special=special, disallowed_special=())
        separators = np.flatnonzero(ids == self.encoding.encode_single_token(COUNT_SEPARATOR))
        return (np.diff(np.concatenate(([-1], separators, [len(ids)]))) - 1).tolist()


@dataclass
class HFEngine(_Engine):
    """The Hugging Face tokenizer's own batch encoding: the reference."""

    tokenizer: Any

    name = "hf"

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        encodings = self.tokenizer.backend_tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]


def build_tiktoken(tokenizer_json: dict[str, Any]) -> TiktokenEngine:
    """A tiktoken encoding equivalent to a byte-level BPE tokenizer.json; ValueError when it has
    a part tiktoken cannot express (another model type, byte fallback, a prefix space...)."""
    import tiktoken

    model = tokenizer_json.get("model", {})
    if model.get("type") != "BPE" or model.get("byte_fallback") or model.get("dropout") or model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        raise ValueError("not a plain byte-level BPE model")
    pattern = _pre_tokenizer_pattern(tokenizer_json.get("pre_tokenizer"))
    normalizer = _normalizer(tokenizer_json.get("normalizer"))
    to_byte = _bytes_to_unicode()

    def as_bytes(token: str) -> bytes:
        try:
            return bytes(to_byte[char] for char in token)
        except KeyError as exc:
            raise ValueError(f"token {token!r} is not in the byte-level alphabet") from exc

    # Counting needs the merge order, not the ids: a token's rank is the step that creates it.
    ranks = {bytes([byte]): byte for byte in range(256)}
    for index, merge in enumerate(model.get("merges", [])):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        ranks.setdefault(as_bytes(left) + as_bytes(right), 256 + index)
    added = {entry["content"]: len(ranks) + i for i, entry in enumerate(tokenizer_json.get("added_tokens", []))}
    for entry in tokenizer_json.get("added_tokens", []):
        if entry.get("lstrip") or entry.get("rstrip") or entry.get("single_word"):
            raise ValueError(f"added token {entry['content']!r} strips spaces, which tiktoken cannot do")
    added.setdefault(COUNT_SEPARATOR, len(ranks) + len(added))
    encoding = tiktoken.Encoding("punie-converted", pat_str=pattern, mergeable_ranks=ranks, special_tokens=added)
    return TiktokenEngine(encoding, normalizer)


def pick_engine(tokenizer: Any, sample: Sequence[str]) -> tuple[TiktokenEngine | HFEngine, str]:
    """tiktoken when it counts the probes and `sample` exactly as HF does, else HF; and why."""
    hf = HFEngine(tokenizer)
    try:
        tiktoken_engine = build_tiktoken(json.loads(tokenizer.backend_tokenizer.to_str()))
    except (ValueError, AttributeError) as exc:
        return hf, f"tiktoken cannot express this tokenizer ({exc})"
    texts = list(PROBES) + list(sample)
    expected = hf.count(texts)
    got = tiktoken_engine.count(texts)
    wrong = sum(a != b for a, b in zip(expected, got))
    if wrong:
        return hf, f"tiktoken differed from the HF tokenizer on {wrong} of {len(texts)} checked texts"
    return tiktoken_engine, f"tiktoken matched the HF tokenizer on all {len(texts)} checked texts"


def _sample(texts: Sequence[str], size: int = SAMPLE_SIZE) -> list[str]:
    if len(texts) <= size:
        return list(texts)
    step = len(texts) / size
    return [texts[int(i * step)] for i in range(size)]


# Counting with the cache --------------------------------------------------------------------

@dataclass
class TokenCounts:
    """Tokens per record (None where a record cannot be rendered) and how they were counted."""

    counts: list[int | None]
    engine: str
    reason: str
    cached: int
    approximate: bool
    # Records the chat template refused, by location, with the template's error.
    failed: dict[str, str]


class CountCache:
    """Counts for one tokenizer in `.punie/tokens-<fingerprint>.json`, by example content hash.

    A second map by the digest of the raw line answers an unchanged line without parsing its
    content again (a 100k-example re-count in well under a second); a line whose bytes changed
    only by a label still finds its count by content hash.
    """

    def __init__(self, folder: Path | None, fingerprint: str) -> None:
        self.path = folder / f"tokens-{fingerprint}.json" if folder else None
        self.counts: dict[str, int] = {}
        self.lines: dict[str, int] = {}
        if self.path and self.path.exists():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                self.counts = {k: v for k, v in loaded["content"].items() if isinstance(v, int)}
                self.lines = {k: v for k, v in loaded["lines"].items() if isinstance(v, int)}
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
                # A damaged cache only costs a recount.
                self.counts, self.lines = {}, {}

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            content = json.dumps({"content": self.counts, "lines": self.lines}, separators=(",", ":"))
            atomic_write_text(self.path, content, backup=False)


def _line_digest(record: Record) -> str:
    return hashlib.blake2b(record.raw.rstrip(b"\r\n"), digest_size=8).hexdigest()


@dataclass
class _Renderer:
    """Renders each missing example once: its first record stands for every record with that content."""

    tokenizer: Any
    records: Sequence[Record]
    missing: dict[str, list[int]]
    done: dict[str, tuple[str, int] | None]  # rendered ahead (the engine check's sample)
    failed: dict[str, str]

    def __call__(self, key: str) -> tuple[str, int] | None:
        if key in self.done:
            return self.done.pop(key)
        record = self.records[self.missing[key][0]]
        try:
            return render(self.tokenizer, record)
        except Exception as exc:  # jinja templates raise anything on odd turns
            self.failed[record.location] = f"{type(exc).__name__}: {exc}"
            return None


def _count_part(engine: TiktokenEngine | HFEngine, renderer: _Renderer, keys: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Counts of the examples with these content keys, and the renderings that failed."""

    def batches() -> Iterator[tuple[list[tuple[str, int]], list[str]]]:
        tags: list[tuple[str, int]] = []
        texts: list[str] = []
        for key in keys:
            done = renderer(key)
            if done is None:
                continue
            tags.append((key, done[1]))
            texts.append(done[0])
            if len(texts) == BATCH:
                yield tags, texts
                tags, texts = [], []
        if texts:
            yield tags, texts

    found = {key: count + extra for tags, counts in count_batches(engine, batches()) for (key, extra), count in zip(tags, counts)}
    return found, renderer.failed


def _count_missing(
    tokenizer: Any,
    records: Sequence[Record],
    missing: dict[str, list[int]],
    counts: list[int | None],
    cache: CountCache,
    failed: dict[str, str],
) -> tuple[TiktokenEngine | HFEngine, str]:
    """Render and count the examples not in the cache; the engine is picked on a sample first.

    Rendering (Python) and counting (Rust, other threads) overlap. Rendering holds the GIL, so with
    tiktoken the examples are also split over forked processes, one per core, each rendering and
    counting its share (the HF tokenizer's own threads do not survive a fork, so it counts here).
    """
    renderer = _Renderer(tokenizer, records, missing, {}, failed)
    keys = list(missing)
    for key in _sample(keys):
        renderer.done[key] = renderer(key)
    engine, reason = pick_engine(tokenizer, [done[0] for done in renderer.done.values() if done is not None])
    parts = shares(keys, MIN_FORKED_PART) if isinstance(engine, TiktokenEngine) else [keys]
    for found, part_failed in in_parts(partial(_count_part, engine, renderer), parts):
        failed.update(part_failed)
        for key, count in found.items():
            cache.counts[key] = count
            for index in missing[key]:
                counts[index] = count
    return engine, reason


def _hash_part(records: Sequence[Record], indexes: list[int]) -> list[str]:
    return [content_hash(records[index]) for index in indexes]


def _content_hashes(records: Sequence[Record], indexes: list[int]) -> list[str]:
    """The content hashes of these records, on every core when there are many (1 s per 100k on one)."""
    return [key for part in in_parts(partial(_hash_part, records), shares(indexes, MIN_FORKED_PART)) for key in part]


def count_tokens(records: Sequence[Record], folder: Path, cache_dir: Path | None, approximate: bool = False) -> TokenCounts:
    """Count every countable record's rendering with the tokenizer in `folder`, reusing the cache."""
    # A bulk pass: the collector would rescan the records' objects again and again (~1 s on 100k).
    with gc_paused():
        return _count_tokens(records, folder, cache_dir, approximate)


def _count_tokens(records: Sequence[Record], folder: Path, cache_dir: Path | None, approximate: bool) -> TokenCounts:
    cache = CountCache(cache_dir, tokenizer_fingerprint(folder))
    lines = [_line_digest(r) if countable(r) else None for r in records]
    counts: list[int | None] = [cache.lines.get(line) if line else None for line in lines]
    missing: dict[str, list[int]] = {}
    uncached = [index for index, (line, count) in enumerate(zip(lines, counts)) if line is not None and count is None]
    for index, key in zip(uncached, _content_hashes(records, uncached)):
        if key in cache.counts:
            counts[index] = cache.counts[key]
        else:
            missing.setdefault(key, []).append(index)
    cached = sum(1 for count in counts if count is not None)
    engine_name, reason = "cache", "every example was counted before with this tokenizer"
    failed: dict[str, str] = {}
    if missing:
        tokenizer = load_hf_tokenizer(folder)
        engine, reason = _count_missing(tokenizer, records, missing, counts, cache, failed)
        engine_name = engine.name
    # Line digests are kept for the lines seen now; content counts for every example ever counted.
    fresh = {line: count for line, count in zip(lines, counts) if line is not None and count is not None}
    if missing or fresh != cache.lines:
        cache.lines = fresh
        cache.save()
    return TokenCounts(counts, engine_name, reason, cached, approximate, failed)
