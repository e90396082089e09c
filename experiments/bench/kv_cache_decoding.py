"""KV-cache decoding: how much does caching keys and values save when a decoder generates?

Module 7 says that without a cache, step t of greedy generation recomputes all t earlier
positions (total work quadratic in the generated length), while with a cache each step
processes only the newest token (total work about linear, apart from attention over the
cache), and that the cache's memory shrinks by the ratio of query heads to key/value heads
with GQA and MQA.  This experiment measures that on a small decoder-only Transformer with
hand-written attention and an explicit, preallocated KV cache:

* time per generated token against its position, with and without the cache;
* total time against the generated length, with the exponent k of time ~ length^k fitted
  on a log-log scale (``common.fit_power_law``);
* tokens/s against batch size, with and without the cache;
* the real bytes of the cache tensors for MHA, GQA and MQA at the same width, next to the
  formula 2 x layers x batch x kv_heads x d_head x positions x 4 bytes.

Weights are random (seeded): timing and memory do not depend on what the model learned,
and greedy decoding of a random model is as much work as of a trained one.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from experiments.bench.common import (
    Progress,
    begin_run,
    fit_power_law,
    in_config_threads,
    load_average,
    measure,
    seed_everything,
    small_ops_run_notes,
    sync_for,
)
from experiments.bench.kv_cache_decoding_config import KvCacheDecodingConfig
from experiments.bench.params import config_to_dict

# What the lesson says, stored apart from the measurements and labelled as claims.
CLAIMS: dict[str, Any] = {
    "source": "Module 7, 'Fast Generation With a KV Cache'",
    "is_measurement": False,
    "exponent_without_cache": 2.0,
    "exponent_with_cache": 1.0,
    "text": (
        "full recomputation does work proportional to t at step t (quadratic in total) while cached decoding does "
        "work proportional to 1 per new token for everything except attention itself"
    ),
}
MODES = {True: "with KV cache", False: "without cache"}
COLUMNS = [
    "Sweep",
    "Mode",
    "Batch size",
    "Generated tokens",
    "Median total (ms)",
    "IQR (ms)",
    "ms per token",
    "Tokens/s",
]


# ----------------------------------------------------------------------------- model


class KVCache:
    """Preallocated keys and values of one layer, shape (batch, kv_heads, positions, d_head).

    Preallocating (rather than ``torch.cat`` at every step, as the lesson's listing does)
    keeps each decoding step's cost independent of how much has been cached so far,
    apart from attention itself, which is what a serving system does.
    """

    def __init__(self, batch: int, kv_heads: int, positions: int, d_head: int, device: torch.device) -> None:
        self.k = torch.zeros(batch, kv_heads, positions, d_head, device=device)
        self.v = torch.zeros(batch, kv_heads, positions, d_head, device=device)

    @property
    def nbytes(self) -> int:
        return self.k.nbytes + self.v.nbytes


class Attention(nn.Module):
    """Causal self-attention with ``kv_heads`` key/value heads shared by ``heads`` query heads.

    kv_heads == heads is multi-head attention, 1 is multi-query, anything between is
    grouped-query.  The query heads of one group attend to their key/value head through
    broadcasting, so the shared keys are never copied per query head.
    """

    def __init__(self, d_model: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.d_head = heads, kv_heads, d_model // heads
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * kv_heads * self.d_head)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, cache: KVCache | None, start: int) -> torch.Tensor:
        b, t, d = x.shape
        group = self.heads // self.kv_heads
        q = self.q(x).view(b, t, self.kv_heads, group, self.d_head).permute(0, 2, 3, 1, 4)  # B,Hkv,G,T,dh
        k, v = self.kv(x).view(b, t, 2, self.kv_heads, self.d_head).permute(2, 0, 3, 1, 4)  # B,Hkv,T,dh
        if cache is not None:
            cache.k[:, :, start : start + t] = k
            cache.v[:, :, start : start + t] = v
            k, v = cache.k[:, :, : start + t], cache.v[:, :, : start + t]
        s = k.shape[2]
        # scaled in place: one block the size of the scores fewer per layer for the heap to place
        scores = (q @ k.unsqueeze(2).transpose(-2, -1)).mul_(1.0 / math.sqrt(self.d_head))  # B,Hkv,G,T,S
        if t > 1:  # query j (at position s - t + j) may see keys up to its own position
            allowed = torch.ones(t, s, dtype=torch.bool, device=x.device).tril(diagonal=s - t)
            scores.masked_fill_(~allowed, float("-inf"))
        out = scores.softmax(dim=-1) @ v.unsqueeze(2)  # B,Hkv,G,T,dh
        return self.proj(out.permute(0, 3, 1, 2, 4).reshape(b, t, d))


class Block(nn.Module):
    """Pre-LN decoder block (GPT-2 style): attention and a GELU MLP, each with a residual.

    The GELU is GPT-2's tanh form.  PyTorch runs the exact (erf) GELU on a CPU through oneDNN,
    which compiles and caches a kernel for every new input shape; uncached decoding has a new
    shape at every step, and those cached kernels, allocated among the step's freed activations,
    kept the heap from reusing them: the process grew by the sum of every step's activations
    (150 MiB where its largest step needs 7) and by a different amount in every process.
    """

    def __init__(self, d_model: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attention(d_model, heads, kv_heads)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(approximate="tanh"), nn.Linear(4 * d_model, d_model)
        )

    def forward(self, x: torch.Tensor, cache: KVCache | None, start: int) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache, start)
        return x + self.mlp(self.ln2(x))


class Decoder(nn.Module):
    """Small decoder-only Transformer; ``forward`` returns the logits of the last position only.

    Both generators need only the last position's logits, so neither pays for the output
    layer on the other positions: the comparison isolates what the cache saves.
    """

    def __init__(self, cfg: KvCacheDecodingConfig, kv_heads: int) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.d_head = cfg.heads, kv_heads, cfg.d_model // cfg.heads
        self.tok = nn.Embedding(cfg.vocab, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_positions, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg.d_model, cfg.heads, kv_heads) for _ in range(cfg.layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)

    def new_caches(self, batch: int, positions: int, device: torch.device) -> list[KVCache]:
        return [KVCache(batch, self.kv_heads, positions, self.d_head, device) for _ in self.blocks]

    def forward(self, idx: torch.Tensor, caches: list[KVCache] | None = None, start: int = 0) -> torch.Tensor:
        positions = torch.arange(start, start + idx.shape[1], device=idx.device)
        x = self.tok(idx) + self.pos(positions)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], start)
        return self.head(self.ln_f(x[:, -1]))


def build_model(cfg: KvCacheDecodingConfig, device: torch.device, kv_heads: int | None = None) -> Decoder:
    """The seeded decoder in eval mode on ``device`` (``kv_heads``: default MHA)."""
    seed_everything(cfg.seed)
    return Decoder(cfg, cfg.heads if kv_heads is None else kv_heads).to(device).eval()


def make_prompt(cfg: KvCacheDecodingConfig, batch: int, device: torch.device) -> torch.Tensor:
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + batch)
    return torch.randint(0, cfg.vocab, (batch, cfg.prompt_len), generator=gen).to(device)


# ------------------------------------------------------------------------ generation


def _noop() -> None:
    return None


@torch.inference_mode()
def generate(
    model: Decoder,
    prompt: torch.Tensor,
    n_new: int,
    *,
    cached: bool,
    sync: Callable[[], None] = _noop,
    step_times: list[float] | None = None,
    logits_out: list[torch.Tensor] | None = None,
    caches_out: list[KVCache] | None = None,
) -> torch.Tensor:
    """Greedy generation of ``n_new`` tokens; returns (batch, prompt + n_new) token ids.

    Without the cache every step runs the whole sequence so far; with it the first step
    (the prefill) runs the prompt and fills the cache, and every later step runs only the
    newest token.  ``step_times`` receives each step's seconds (synchronised with ``sync``
    before the clock is read); ``logits_out`` and ``caches_out`` expose the step logits and
    the cache for the correctness tests.
    """
    b, p = prompt.shape
    if p + n_new - 1 > model.pos.num_embeddings:
        raise ValueError(f"{p} + {n_new} tokens exceed the model's {model.pos.num_embeddings} positions")
    tokens = torch.empty(b, p + n_new, dtype=torch.long, device=prompt.device)
    tokens[:, :p] = prompt
    # The last generated token is never fed back, so the cache needs p + n_new - 1 positions.
    caches = model.new_caches(b, p + n_new - 1, prompt.device) if cached else None
    if step_times is not None:
        sync()
        last = time.perf_counter()
    for i in range(n_new):
        length = p + i
        if caches is None:
            logits = model(tokens[:, :length])
        elif i == 0:
            logits = model(tokens[:, :length], caches, 0)
        else:
            logits = model(tokens[:, length - 1 : length], caches, length - 1)
        tokens[:, length] = logits.argmax(dim=-1)
        if logits_out is not None:
            logits_out.append(logits)
        if step_times is not None:
            sync()
            now = time.perf_counter()
            step_times.append(now - last)
            last = now
    if caches_out is not None and caches is not None:
        caches_out.extend(caches)
    return tokens


# --------------------------------------------------------------------------- the run


def _timed_generation(
    model: Decoder, prompt: torch.Tensor, n_new: int, cached: bool, cfg: KvCacheDecodingConfig, sync: Any
) -> tuple[Any, list[list[float]]]:
    """``common.measure`` of one whole generation; also returns the per-step times of every call."""
    calls: list[list[float]] = []

    def call() -> None:
        calls.append([])
        generate(model, prompt, n_new, cached=cached, sync=sync, step_times=calls[-1])

    timing = measure(call, sync=sync, min_run_time=cfg.min_run_time, warmup_s=0.0)
    return timing, calls[1:]  # the first call is the warm-up


@in_config_threads
def run(config: KvCacheDecodingConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Time greedy generation with and without a KV cache; measure the cache's memory."""
    cfg = config
    track, device, env = begin_run(cfg.device, progress)
    sync = sync_for(device)
    lengths, batches = sorted(cfg.gen_lens), sorted(cfg.batch_sizes)
    variants = cfg.kv_head_variants()
    total = 2 * len(lengths) + 2 * len(batches) + len(variants)
    done = 0
    track(0.0, "building the model")
    model = build_model(cfg, device)
    rows: list[list[Any]] = []
    per_step: dict[str, list[float]] = {}

    def add_row(sweep: str, cached: bool, batch: int, n_new: int, timing: Any) -> None:
        rows.append(
            [
                sweep,
                MODES[cached],
                batch,
                n_new,
                timing.median * 1e3,
                timing.iqr * 1e3,
                timing.median * 1e3 / n_new,
                batch * n_new / timing.median,
            ]
        )

    prompt = make_prompt(cfg, cfg.length_batch, device)
    for n_new in lengths:
        for cached in (False, True):  # both modes back to back at each length: drift hits both alike
            timing, calls = _timed_generation(model, prompt, n_new, cached, cfg, sync)
            add_row("length", cached, cfg.length_batch, n_new, timing)
            if n_new == lengths[-1]:
                per_step[MODES[cached]] = [statistics.median(step) for step in zip(*calls, strict=True)]
            done += 1
            track(done / total * 0.99, f"{MODES[cached]}, {n_new} tokens: {timing.median * 1e3:.1f} ms")

    for batch in batches:
        prompt = make_prompt(cfg, batch, device)
        for cached in (False, True):
            timing, _ = _timed_generation(model, prompt, cfg.batch_gen_len, cached, cfg, sync)
            add_row("batch", cached, batch, cfg.batch_gen_len, timing)
            done += 1
            track(
                done / total * 0.99,
                f"{MODES[cached]}, batch {batch}: {batch * cfg.batch_gen_len / timing.median:,.0f} tokens/s",
            )
    del model

    memory = []
    n_mem = max(lengths)
    for label, kv_heads in variants.items():
        variant = build_model(cfg, device, kv_heads)
        caches: list[KVCache] = []
        generate(variant, make_prompt(cfg, 1, device), n_mem, cached=True, caches_out=caches)
        positions = cfg.prompt_len + n_mem - 1
        measured = sum(c.nbytes for c in caches)
        memory.append(
            {
                "variant": label,
                "kv_heads": kv_heads,
                "positions": positions,
                "measured_bytes": measured,
                "formula_bytes": cfg.cache_bytes(batch=1, positions=positions, kv_heads=kv_heads),
                "weights": sum(p.numel() for p in variant.parameters()),
            }
        )
        del variant, caches
        done += 1
        track(done / total * 0.99, f"{label} cache: {measured / 2**20:.2f} MiB")

    env = {**env, "load_avg_1m_end": load_average()}
    positions = [cfg.prompt_len + i for i in range(max(lengths))]
    result = {
        "experiment": "kv-cache-decoding",
        "environment": env,
        "params": {**config_to_dict(cfg), "device": str(device)},
        "per_token": {"position": positions, "ms": {k: [t * 1e3 for t in v] for k, v in per_step.items()}},
        "cache_memory": memory,
        "table": {"columns": COLUMNS, "rows": rows},
        "summary": {**summarise(cfg, rows, memory), "step_ms": step_summary(per_step, positions)},
        "claims": CLAIMS,
        "notes": [],
    }
    result["notes"] = notes_for(cfg, device, result) + small_ops_run_notes(env)
    track.done("done")
    return result


def summarise(cfg: KvCacheDecodingConfig, rows: list[list[Any]], memory: list[dict[str, Any]]) -> dict[str, Any]:
    """Fitted exponents, speed-ups at the longest length, batch throughput and cache sizes."""
    col = {c: i for i, c in enumerate(COLUMNS)}
    length_rows = [r for r in rows if r[col["Sweep"]] == "length"]
    batch_rows = [r for r in rows if r[col["Sweep"]] == "batch"]
    total_ms = {(r[col["Mode"]], r[col["Generated tokens"]]): r[col["Median total (ms)"]] for r in length_rows}
    rate = {(r[col["Mode"]], r[col["Batch size"]]): r[col["Tokens/s"]] for r in batch_rows}
    lengths, batches = sorted(cfg.gen_lens), sorted(cfg.batch_sizes)
    tail = lengths[-3:]
    exponents, tail_exponents = {}, {}
    for mode in MODES.values():
        exponents[mode] = fit_power_law(lengths, [total_ms[(mode, n)] for n in lengths])
        tail_exponents[mode] = fit_power_law(tail, [total_ms[(mode, n)] for n in tail])
    longest = lengths[-1]
    mha = memory[0]["measured_bytes"]
    return {
        "exponent": exponents,
        "exponent_longest3": tail_exponents,
        "speedup_at_longest": total_ms[(MODES[False], longest)] / total_ms[(MODES[True], longest)],
        "longest": longest,
        "tokens_per_s": {mode: {str(b): rate[(mode, b)] for b in batches} for mode in MODES.values()},
        "batch_scaling": {mode: rate[(mode, batches[-1])] / rate[(mode, batches[0])] for mode in MODES.values()},
        "cache_mib": {m["variant"]: m["measured_bytes"] / 2**20 for m in memory},
        "cache_ratio_to_mha": {m["variant"]: m["measured_bytes"] / mha for m in memory},
        "formula_matches": all(m["measured_bytes"] == m["formula_bytes"] for m in memory),
    }


def step_summary(per_step: dict[str, list[float]], positions: list[int]) -> dict[str, Any]:
    """Per mode: the time of the second step (the first after the prefill) and of the last, and the growth in
    between per position (a least-squares slope in ms per position)."""
    out = {}
    for mode, secs in per_step.items():
        xs, ys = positions[1:], [t * 1e3 for t in secs[1:]]
        slope = None
        if len(xs) >= 2:
            mx, my = statistics.fmean(xs), statistics.fmean(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
        out[mode] = {
            "second_position": positions[1] if len(positions) > 1 else None,
            "second_ms": ys[0] if ys else None,
            "last_position": positions[-1],
            "last_ms": secs[-1] * 1e3,
            "slope_ms_per_position": slope,
        }
    return out


def notes_for(cfg: KvCacheDecodingConfig, device: torch.device, result: dict[str, Any]) -> list[str]:
    """How it was measured and what to keep in mind (Markdown)."""
    s = result["summary"]
    k_off, k_on = s["exponent"][MODES[False]], s["exponent"][MODES[True]]
    notes = [
        f"Model: decoder-only Transformer (Pre-LN, GELU in GPT-2's tanh form), d_model {cfg.d_model}, "
        f"{cfg.heads} heads, {cfg.layers} layers, vocab {cfg.vocab}, **random weights** (seed {cfg.seed}); "
        "timing and memory do not depend on training. "
        f"Greedy decoding after a {cfg.prompt_len}-token prompt, fp32, on `{device}`; the length sweep runs "
        f"{cfg.length_batch} sequences at once, the batch sweep generates {cfg.batch_gen_len} tokens per sequence.",
        "Timing: `torch.utils.benchmark` `blocked_autorange` on each whole generation after one warm-up "
        f"generation, at least 3 timed calls per point (min_run_time {cfg.min_run_time:g} s); the median is shown. "
        "Time per token against position is the median over the timed calls of each step of the longest generation "
        "(the clock is read after a device sync at every step). Step 0 of the cached generator is the prefill.",
        "Both generators compute the logits of the last position only and use the same model and weights; the "
        "cache is preallocated, so a cached step does not copy the cache.",
        f"Fitted exponent k of total time ~ (generated tokens)^k: **{_fmt(k_off)} without cache, {_fmt(k_on)} with "
        "it** (lesson's claim: about 2 and about 1). Without a cache, step t costs a fixed per-step overhead "
        "(Python, kernel launches, the output layer) plus work proportional to t: the total only approaches n^2 "
        "once the proportional part dominates, so at short lengths or small widths the fitted exponent is below 2. "
        "With the cache, attention over the cache still grows with t, so the exponent can exceed 1 at long lengths.",
        "Cache memory is the real `nbytes` of the key and value tensors after generating "
        f"{max(cfg.gen_lens)} tokens at batch 1, next to 2 x layers x batch x KV heads x d_head x positions x 4 "
        "bytes. Query heads and width are the same for MHA, GQA and MQA; only the number of key/value heads differs.",
    ]
    if device.type == "cpu":
        notes.append(
            "On a CPU the cached step at small widths is dominated by per-operation overhead, and batching "
            "raises tokens/s until the matrix products become compute-bound; a GPU shifts these numbers a lot."
        )
    return notes


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
