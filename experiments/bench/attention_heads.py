"""Attention heads: what do trained heads do, which ones matter, and what do their keys and values cost?

The lesson says heads specialise and that many can be pruned (Voita et al. 2019; Michel et al. 2019), and that
sharing key/value heads (MQA, GQA) shrinks the KV cache.  This experiment measures the first two on a model small
enough to train in seconds, and computes the third from the formula, checked against real tensors.

Task (induction), for a sequence of ``seq_len`` = T tokens, all distinct apart from one repeat::

    [random prefix of T - 2L tokens] [segment of L tokens] [the same segment again]

with L drawn per sequence from [2, T // 2].  The loss is next-token cross-entropy on the second copy (from its
second token on), the only part that is predictable.  Because L varies, no fixed positional offset solves it: the
model has to find the earlier occurrence of the current token and copy the token that followed it.  A two-layer
attention-only Transformer does this with two cooperating head roles (Olsson et al. 2022): a *previous-token* head
in layer 1 writes "my predecessor was X" into each position, and an *induction* head in layer 2 looks for the
position whose predecessor matches the current token.

Measured:

* per-head attention maps on one example sequence;
* per-head scores on held-out sequences: the mean attention to the previous position (previous-token score) and,
  on the second copy, to the position after the earlier occurrence of the current token (induction score);
* each head's importance: the increase of the held-out loss when that head alone is masked (its output multiplied
  by 0 before the output projection, as Michel et al. 2019 do), and the loss as heads are pruned least important
  first;
* the KV cache of MHA, GQA and MQA at the same width: ``2 * layers * kv_heads * head_dim * tokens * batch * bytes``,
  checked against the bytes of the real key/value tensors of the trained model (GQA/MQA by mean-pooling the key and
  value heads of each group, the conversion of Ainslie et al. 2023).

Attention is written out by hand (not ``F.scaled_dot_product_attention``) so the per-head weights are available and
a head can be masked; the tests check it against the fused kernel.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.attention_heads_config import (
    EVAL_SIZE,
    KV_DTYPE_BYTES,
    MIN_SEGMENT,
    AttentionHeadsConfig,
)
from experiments.bench.common import (
    Progress,
    begin_run,
    contention_note,
    in_config_threads,
    load_average,
    seed_everything,
)
from experiments.bench.params import config_to_dict

# A head whose score reaches this is given the role in the table (uniform attention scores far lower: see
# ``uniform_scores``).
ROLE_THRESHOLD = 0.4
# "Prunable" = removing these heads together costs at most this much held-out loss (nats per token).
PRUNE_TOLERANCE = 0.1
# Voita et al. (2019): 38 of the 48 encoder heads of an English-Russian Transformer pruned for -0.15 BLEU (a claim).
VOITA_PRUNED, VOITA_TOTAL = 38, 48
COLUMNS = ["Head", "Loss increase when masked (nats)", "Previous-token score", "Induction score", "Role"]
KV_COLUMNS = ["Attention", "KV heads", "KV cache (MiB)", "Bytes per token"]


def head_label(layer: int, head: int) -> str:
    """Human label shared by the chart and the table (1-based, as a reader counts)."""
    return f"L{layer + 1} H{head + 1}"


# ------------------------------------------------------------------------------- data


def make_batch(
    n: int, seq_len: int, vocab: int, gen: torch.Generator, seg_len: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` sequences (n, T), their segment lengths (n,) and the loss mask over next-token targets (n, T - 1).

    Tokens are a random permutation of the vocabulary, so every token occurs once apart from the repeat.
    ``mask[:, i]`` is true where the target (token i + 1) is predictable: query i in the second copy.
    """
    perm = torch.argsort(torch.rand(n, vocab, generator=gen), dim=1)
    if seg_len is None:
        lengths = torch.randint(MIN_SEGMENT, seq_len // 2 + 1, (n,), generator=gen)
    else:
        lengths = torch.full((n,), seg_len, dtype=torch.long)
    pos = torch.arange(seq_len)
    second = pos[None] >= (seq_len - lengths)[:, None]
    source = torch.where(second, pos[None] - lengths[:, None], pos[None])
    x = torch.gather(perm, 1, source)
    return x, lengths, second[:, :-1]


# ----------------------------------------------------------------------------- model


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention written out, returning each head's weights; heads can be gated."""

    def __init__(self, d_model: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, d_model // heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.register_buffer("future", torch.ones(max_len, max_len, dtype=torch.bool).triu(1), persistent=False)

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q, k, v of shape (B, heads, T, head_dim)."""
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return q, k, v

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """softmax(q k^T / sqrt(d_k) + causal mask) v per head: (outputs (B, h, T, d_k), weights (B, h, T, T))."""
        t = q.size(-2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        weights = scores.masked_fill(self.future[:t, :t], float("-inf")).softmax(dim=-1)
        return weights @ v, weights

    def forward(
        self, x: torch.Tensor, gate: torch.Tensor | None = None, cache: list[Any] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``gate`` (heads,) multiplies each head's output before W_O (0 removes the head's term head_i W_i^O);
        ``cache``, if given, receives this layer's (k, v)."""
        b, t, d = x.shape
        q, k, v = self.split_heads(x)
        if cache is not None:
            cache.append((k, v))
        out, weights = self.attend(q, k, v)
        if gate is not None:
            out = out * gate.view(1, -1, 1, 1)
        return self.out_proj(out.transpose(1, 2).reshape(b, t, d)), weights


class AttentionOnlyTransformer(nn.Module):
    """Token + learned position embeddings, ``layers`` pre-LayerNorm attention blocks (no MLP), LayerNorm, read-out."""

    def __init__(self, vocab: int, d_model: int, heads: int, layers: int, max_len: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.position = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(layers))
        self.blocks = nn.ModuleList(CausalSelfAttention(d_model, heads, max_len) for _ in range(layers))
        self.final_norm = nn.LayerNorm(d_model)
        self.readout = nn.Linear(d_model, vocab)

    def forward(
        self, x: torch.Tensor, gates: torch.Tensor | None = None, cache: list[Any] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (B, T, vocab) and each layer's attention weights; ``gates`` is (layers, heads) or None."""
        h = self.embedding(x) + self.position[: x.size(1)]
        weights = []
        for i, (norm, block) in enumerate(zip(self.norms, self.blocks, strict=True)):
            out, w = block(norm(h), None if gates is None else gates[i], cache)
            h = h + out
            weights.append(w)
        return self.readout(self.final_norm(h)), weights


def token_losses(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy at every position but the last: (B, T - 1)."""
    b, t, v = logits.shape
    return F.cross_entropy(logits[:, :-1].reshape(-1, v), x[:, 1:].reshape(-1), reduction="none").view(b, t - 1)


def masked_loss(logits: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss over the predictable targets (``mask``)."""
    return (token_losses(logits, x) * mask).sum() / mask.sum()


# -------------------------------------------------------------------------- training


def train(
    model: AttentionOnlyTransformer, cfg: AttentionHeadsConfig, device: torch.device, on_step: Any = None
) -> list[float]:
    """``cfg.steps`` Adam steps on fresh random batches; the loss of every step."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
    # Losses stay on the device and are read once at the end: an .item() per step would synchronise a GPU.
    losses: list[torch.Tensor] = []
    model.train()
    for step in range(cfg.steps):
        x, _, mask = make_batch(cfg.batch, cfg.seq_len, cfg.vocab, gen)
        x, mask = x.to(device), mask.to(device)
        loss = masked_loss(model(x)[0], x, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
        if on_step is not None:
            on_step(step + 1)
    model.eval()
    return torch.stack(losses).cpu().tolist()


# ------------------------------------------------------------------------ evaluation


def eval_chunks(cfg: AttentionHeadsConfig, device: torch.device) -> list[tuple[torch.Tensor, ...]]:
    """The held-out set, in chunks of ``cfg.batch`` so evaluation never needs more memory than a training step."""
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1_000_003)
    x, lengths, mask = make_batch(EVAL_SIZE, cfg.seq_len, cfg.vocab, gen)
    return [
        (x[i : i + cfg.batch].to(device), lengths[i : i + cfg.batch].to(device), mask[i : i + cfg.batch].to(device))
        for i in range(0, EVAL_SIZE, cfg.batch)
    ]


def head_scores(weights: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-head sums (not means) of the previous-token and induction attention, and their counts.

    ``weights`` (B, h, T, T), ``lengths`` (B,).  Returns (sums (2, h), counts (2,)).
    """
    b, h, t, _ = weights.shape
    prev = torch.diagonal(weights, offset=-1, dim1=-2, dim2=-1)  # w[i, i-1], (B, h, T-1)
    pos = torch.arange(t, device=weights.device)
    in_second = pos[None] >= (t - lengths)[:, None]  # (B, T)
    target = (pos[None] - lengths[:, None] + 1).clamp(min=0)  # key after the earlier occurrence
    induction = weights.gather(-1, target[:, None, :, None].expand(b, h, t, 1)).squeeze(-1)  # (B, h, T)
    sums = torch.stack([prev.sum(dim=(0, 2)), (induction * in_second[:, None]).sum(dim=(0, 2))])
    counts = torch.stack([torch.tensor(b * (t - 1), device=weights.device), in_second.sum()])
    return sums, counts


def uniform_scores(seq_len: int) -> dict[str, float]:
    """What a head attending uniformly to every visible position would score (the baseline for the roles)."""
    prev = sum(1 / (i + 1) for i in range(1, seq_len)) / (seq_len - 1)
    total = count = 0.0
    for seg in range(MIN_SEGMENT, seq_len // 2 + 1):
        total += sum(1 / (i + 1) for i in range(seq_len - seg, seq_len))
        count += seg
    return {"previous_token": prev, "induction": total / count}


@torch.inference_mode()
def evaluate(
    model: AttentionOnlyTransformer,
    chunks: list[tuple[torch.Tensor, ...]],
    gates: torch.Tensor | None = None,
    with_scores: bool = False,
) -> dict[str, Any]:
    """Held-out loss and accuracy on the predictable targets (and, if asked, every head's role scores)."""
    loss_sum = torch.zeros((), device=chunks[0][0].device)
    correct = torch.zeros((), device=loss_sum.device)
    n = torch.zeros((), device=loss_sum.device)
    sums: list[torch.Tensor] = []
    counts: list[torch.Tensor] = []
    for x, lengths, mask in chunks:
        logits, weights = model(x, gates)
        loss_sum += (token_losses(logits, x) * mask).sum()
        correct += ((logits[:, :-1].argmax(-1) == x[:, 1:]) & mask).sum()
        n += mask.sum()
        if with_scores:
            per_layer = [head_scores(w, lengths) for w in weights]
            chunk_sums = torch.stack([s for s, _ in per_layer])  # (layers, 2, h)
            chunk_counts = per_layer[0][1]
            sums.append(chunk_sums)
            counts.append(chunk_counts)
    out: dict[str, Any] = {"loss": (loss_sum / n).item(), "accuracy": (correct / n).item()}
    if with_scores:
        total = torch.stack(sums).sum(0) / torch.stack(counts).sum(0)[None, :, None]
        out["previous_token"] = total[:, 0].cpu().tolist()
        out["induction"] = total[:, 1].cpu().tolist()
    return out


def ablations(
    model: AttentionOnlyTransformer, chunks: list[tuple[torch.Tensor, ...]], cfg: AttentionHeadsConfig, track: Any
) -> tuple[float, list[list[float]], list[dict[str, Any]]]:
    """Baseline loss, the loss increase of masking each head alone, and the pruning curve (least important first)."""
    device = chunks[0][0].device
    ones = torch.ones(cfg.layers, cfg.heads, device=device)
    base = evaluate(model, chunks, ones)["loss"]
    total = cfg.layers * cfg.heads
    increase = [[0.0] * cfg.heads for _ in range(cfg.layers)]
    for i in range(total):
        layer, head = divmod(i, cfg.heads)
        gates = ones.clone()
        gates[layer, head] = 0.0
        increase[layer][head] = evaluate(model, chunks, gates)["loss"] - base
        track(
            0.82 + 0.08 * (i + 1) / total, f"masked {head_label(layer, head)}: loss {base + increase[layer][head]:+.3f}"
        )
    order = sorted(range(total), key=lambda i: increase[i // cfg.heads][i % cfg.heads])
    curve = [{"pruned": 0, "loss": base, "head": None}]
    gates = ones.clone()
    for k, i in enumerate(order, start=1):
        gates[divmod(i, cfg.heads)] = 0.0
        curve.append(
            {"pruned": k, "loss": evaluate(model, chunks, gates)["loss"], "head": head_label(*divmod(i, cfg.heads))}
        )
        track(0.90 + 0.08 * k / total, f"pruned {k} of {total} heads")
    return base, increase, curve


# ---------------------------------------------------------------------------- KV cache


def kv_cache_bytes(
    *, layers: int, kv_heads: int, head_dim: int, seq_len: int, batch: int, bytes_per_element: int
) -> int:
    """Keys and values of every layer, KV head, token and sequence: 2 * layers * kv_heads * head_dim * T * B * bytes."""
    return 2 * layers * kv_heads * head_dim * seq_len * batch * bytes_per_element


def kv_variants(heads: int) -> list[tuple[str, int]]:
    """(label, KV heads) for MHA (one KV head per query head), every GQA grouping, and MQA (one KV head)."""
    out = []
    for g in sorted((g for g in range(1, heads + 1) if heads % g == 0), reverse=True):
        if g == heads:
            name = "MHA"
        elif g == 1:
            name = "MQA"
        else:
            name = "GQA"
        out.append((f"{name}, {g} KV head" + ("s" if g != 1 else ""), g))
    return out


@torch.inference_mode()
def real_kv_cache(
    model: AttentionOnlyTransformer, x: torch.Tensor, kv_heads: int, dtype: torch.dtype
) -> list[torch.Tensor]:
    """The key and value tensors a decoder would cache for ``x``, each (B, kv_heads, T, head_dim) in ``dtype``.

    With fewer KV heads than query heads the heads of each group are mean-pooled (Ainslie et al. 2023's conversion
    of a multi-head checkpoint), so these are the tensors such a converted model would store.
    """
    cache: list[Any] = []
    model(x, None, cache)
    out = []
    for k, v in cache:
        b, h, t, d = k.shape
        for tensor in (k, v):
            pooled = tensor.reshape(b, kv_heads, h // kv_heads, t, d).mean(dim=2)
            out.append(pooled.to(dtype).contiguous())
    return out


def kv_comparison(model: AttentionOnlyTransformer, example: torch.Tensor, cfg: AttentionHeadsConfig) -> dict[str, Any]:
    """Formula at (kv_context, kv_batch, kv_dtype) per variant, and the formula vs real tensors for the example."""
    elem = KV_DTYPE_BYTES[cfg.kv_dtype]
    dtype = getattr(torch, cfg.kv_dtype)
    rows = []
    for label, g in kv_variants(cfg.heads):
        shape = {"layers": cfg.layers, "kv_heads": g, "head_dim": cfg.head_dim, "bytes_per_element": elem}
        formula = kv_cache_bytes(**shape, seq_len=cfg.kv_context, batch=cfg.kv_batch)
        real = sum(t.numel() * t.element_size() for t in real_kv_cache(model, example, g, dtype))
        rows.append(
            {
                "label": label,
                "kv_heads": g,
                "bytes": formula,
                "bytes_per_token": kv_cache_bytes(**shape, seq_len=1, batch=1),
                "example_real_bytes": real,
                "example_formula_bytes": kv_cache_bytes(**shape, seq_len=example.size(1), batch=example.size(0)),
            }
        )
    return {
        "context": cfg.kv_context,
        "batch": cfg.kv_batch,
        "dtype": cfg.kv_dtype,
        "bytes_per_element": elem,
        "layers": cfg.layers,
        "heads": cfg.heads,
        "head_dim": cfg.head_dim,
        "variants": rows,
        "formula": "2 x layers x KV heads x head_dim x tokens x batch x bytes per element",
        "real_tensors_match_formula": all(r["example_real_bytes"] == r["example_formula_bytes"] for r in rows),
    }


# ----------------------------------------------------------------------------- the run


@in_config_threads
def run(config: AttentionHeadsConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Train the model, map, score and ablate its heads, compare KV caches; return the JSON-able result."""
    cfg = config
    track, device, env = begin_run(cfg.device, progress)
    track(0.0, "starting")
    seed_everything(cfg.seed)
    model = AttentionOnlyTransformer(cfg.vocab, cfg.d_model, cfg.heads, cfg.layers, cfg.seq_len).to(device)
    report_every = max(1, cfg.steps // 20)

    def on_step(step: int) -> None:
        if step % report_every == 0 or step == cfg.steps:
            track(0.8 * step / cfg.steps, f"training: step {step} of {cfg.steps}")

    start, cpu_start = time.perf_counter(), time.process_time()
    losses = train(model, cfg, device, on_step)
    train_s, train_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start

    chunks = eval_chunks(cfg, device)
    scores = evaluate(model, chunks, with_scores=True)
    track(0.82, f"held-out loss {scores['loss']:.3f}, accuracy {scores['accuracy']:.1%}")
    base, increase, curve = ablations(model, chunks, cfg, track)

    example_len = max(MIN_SEGMENT, cfg.seq_len // 3)
    example, _, _ = make_batch(1, cfg.seq_len, cfg.vocab, torch.Generator().manual_seed(cfg.seed + 7), example_len)
    example = example.to(device)
    with torch.inference_mode():
        _, maps = model(example)
    kv = kv_comparison(model, example, cfg)
    track(0.99, "KV cache compared")

    labels = [head_label(i, h) for i in range(cfg.layers) for h in range(cfg.heads)]
    rows = []
    for i in range(cfg.layers):
        for h in range(cfg.heads):
            prev, ind = scores["previous_token"][i][h], scores["induction"][i][h]
            rows.append([head_label(i, h), increase[i][h], prev, ind, role(prev, ind)])
    every = max(1, cfg.steps // 100)
    result = {
        "experiment": "attention-heads",
        "environment": {**env, "load_avg_1m_end": load_average()},
        "params": {**config_to_dict(cfg), "device": str(device)},
        "head_labels": labels,
        "example": {
            "tokens": example[0].cpu().tolist(),
            "segment_length": example_len,
            "maps": [
                [[[round(p, 4) for p in row] for row in w[0, h].cpu().tolist()] for h in range(cfg.heads)] for w in maps
            ],
        },
        "training": {
            "loss_curve": {"step": list(range(1, cfg.steps + 1, every)), "loss": losses[::every]},
            "start_loss": sum(losses[:10]) / len(losses[:10]),
            "final_loss": sum(losses[-20:]) / len(losses[-20:]),
            "seconds": train_s,
            "cpu_seconds": train_cpu_s,
        },
        "held_out": {"loss": base, "accuracy": scores["accuracy"], "sequences": EVAL_SIZE},
        "loss_increase": increase,
        "previous_token_score": scores["previous_token"],
        "induction_score": scores["induction"],
        "uniform_scores": uniform_scores(cfg.seq_len),
        "pruning_curve": curve,
        "claims": {
            "voita_2019": {
                "pruned": VOITA_PRUNED,
                "total": VOITA_TOTAL,
                "text": "38 of 48 encoder heads pruned for -0.15 BLEU (Voita et al. 2019, English-Russian)",
            }
        },
        "kv_cache": kv,
        "table": {"columns": COLUMNS, "rows": rows},
        "kv_table": {
            "columns": KV_COLUMNS,
            "rows": [[r["label"], r["kv_heads"], r["bytes"] / 2**20, r["bytes_per_token"]] for r in kv["variants"]],
        },
    }
    result["summary"] = summarise(cfg, result)
    result["notes"] = notes_for(cfg, result)
    track.done("done")
    return result


def role(prev: float, induction: float) -> str:
    """The role a head's scores show, or "other"."""
    if induction >= ROLE_THRESHOLD and induction >= prev:
        return "induction"
    if prev >= ROLE_THRESHOLD:
        return "prev. token"
    return "other"


def summarise(cfg: AttentionHeadsConfig, result: dict[str, Any]) -> dict[str, Any]:
    """The key numbers: learning, the heads that matter, the roles found, pruning, KV cache sizes."""
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in result["table"]["rows"]]
    ranked = sorted(rows, key=lambda r: r[COLUMNS[1]], reverse=True)
    base = result["held_out"]["loss"]
    prunable = max(p["pruned"] for p in result["pruning_curve"] if p["loss"] <= base + PRUNE_TOLERANCE)
    return {
        "start_loss": result["training"]["start_loss"],
        "final_train_loss": result["training"]["final_loss"],
        "held_out_loss": base,
        "held_out_accuracy": result["held_out"]["accuracy"],
        "most_important_head": ranked[0]["Head"],
        "most_important_loss_increase": ranked[0][COLUMNS[1]],
        "loss_increase_by_head": {r["Head"]: r[COLUMNS[1]] for r in ranked},
        "induction_heads": [r["Head"] for r in rows if r["Role"] == "induction"],
        "previous_token_heads": [r["Head"] for r in rows if r["Role"] == "prev. token"],
        "max_induction_score": max(r["Induction score"] for r in rows),
        "heads_prunable_within_tolerance": prunable,
        "prune_tolerance_nats": PRUNE_TOLERANCE,
        "total_heads": cfg.layers * cfg.heads,
        "kv_cache_mib": {r["label"]: r["bytes"] / 2**20 for r in result["kv_cache"]["variants"]},
        "kv_real_tensors_match_formula": result["kv_cache"]["real_tensors_match_formula"],
    }


def notes_for(cfg: AttentionHeadsConfig, result: dict[str, Any]) -> list[str]:
    """How it was measured, and the caveats, as Markdown."""
    s, kv, uni = result["summary"], result["kv_cache"], result["uniform_scores"]
    t = cfg.seq_len
    notes = [
        f"Task: {t} tokens, all distinct except a segment of L tokens that is repeated at the end (L random in "
        f"2..{t // 2} per sequence). Loss: next-token cross-entropy on the second copy, the predictable part; "
        f"chance is about ln({cfg.vocab}) = {math.log(cfg.vocab):.2f} nats.",
        f"Model: {cfg.layers} attention-only layer(s) x {cfg.heads} heads, d = {cfg.d_model}, pre-LayerNorm, learned "
        f"positions, no MLP; {cfg.steps} Adam steps (lr {cfg.lr:g}) of {cfg.batch} fresh sequences. Loss went from "
        f"{s['start_loss']:.2f} to {s['final_train_loss']:.3f} nats; held-out ({EVAL_SIZE} sequences) "
        f"{s['held_out_loss']:.3f} nats, {s['held_out_accuracy']:.1%} of predictable tokens right.",
        "Importance = held-out loss with the head masked (its output times 0 before W_O, as Michel et al. 2019) "
        "minus the loss with every head on. The pruning curve masks heads cumulatively, least important first.",
        f"Previous-token score: mean attention from each position to the one before. Induction score: mean "
        f"attention, on the second copy, to the token after the earlier occurrence of the current token. Uniform "
        f"attention would score {uni['previous_token']:.2f} and {uni['induction']:.2f}; a role is given at "
        f"{ROLE_THRESHOLD} or more. Attention maps are clues: the masking numbers say which heads the loss needs.",
        f"KV cache = {kv['formula']} = 2 x {kv['layers']} x g x {kv['head_dim']} x {kv['context']} x {kv['batch']} "
        f"x {kv['bytes_per_element']} B ({kv['dtype']}). Arithmetic for this model's width at the chosen context; "
        "checked against the bytes of the real key/value tensors of the trained model on the example sequence "
        + ("(they match)." if kv["real_tensors_match_formula"] else "(they DO NOT match).")
        + " The model is trained as MHA; the GQA/MQA tensors come from mean-pooling its KV heads per group.",
        f"Ran on {result['environment']['device']} ({result['environment']['device_name']}); training took "
        f"{result['training']['seconds']:.1f} s wall clock, {result['training']['cpu_seconds']:.1f} s of process "
        "CPU time.",
    ]
    notes.append(
        f"Ran with torch.get_num_threads() = {result['environment']['num_threads']} (parameter 'threads'; at these "
        "sizes every op is tiny and extra CPU threads mostly add synchronisation)."
    )
    busy = contention_note(result["environment"])
    return [*notes, busy] if busy else notes
