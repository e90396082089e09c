"""The encoder-decoder bottleneck: a GRU seq2seq model with and without attention, by source length.

Bahdanau, Cho & Bengio (2015, Fig. 2) found that a basic RNN encoder-decoder translates long
sentences worse and worse, while their attention model (RNNsearch) does not degrade. Their
explanation is the bottleneck: without attention the decoder sees the source only through the
encoder's last state, one vector of fixed size whatever the length. This experiment trains two
models that differ in that one respect on a synthetic task and measures token accuracy by length.

Task: a random sequence of ``vocab`` distinct tokens, of length n; the target is the same
sequence (``copy``) or the sequence reversed (``reverse``). Training lengths are drawn uniformly
from ``[train_min_len, train_max_len]`` (one length per batch, so there is no padding), fresh
random batches every step. Test: greedy decoding of exactly n tokens (the model's own previous
output is fed back), on held-out sequences of each test length, including lengths longer than any
seen in training. Token accuracy = fraction of output positions equal to the target; chance = 1/vocab.

Models (same embedding and hidden size, trained on the same batches with the same budget)::

    encoder:  h_1..h_n = GRU(embed(x_1..x_n));  decoder state s_0 = h_n
    decoder step i:  c_i = context;  s_i = GRUCell([embed(y_(i-1)), c_i], s_(i-1));
                     logits_i = Linear([s_i, c_i])
    no attention:    c_i = h_n for every i (Cho et al. 2014: the fixed summary fed at every step)
    attention:       c_i = sum_j a_ij h_j,  a_i = softmax_j(score(s_(i-1), h_j))
                     additive (Bahdanau): v^T tanh(W s + U h);  dot (Luong): s . h

So the attention model differs only in how c_i is formed; it has the attention's extra weights
(W, U, v: 2 hidden^2 + hidden for the additive score, none for the dot score).
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from experiments.bench.common import (
    Progress,
    begin_run,
    in_config_threads,
    load_average,
    seed_everything,
    small_ops_run_notes,
)
from experiments.bench.params import config_to_dict
from experiments.bench.seq2seq_bottleneck_config import (
    ATTENTION_LABELS,
    EVAL_CHUNK,
    MODEL_LABELS,
    TASK_LABELS,
    Seq2SeqBottleneckConfig,
)

CLAIM = {
    "source": "Bahdanau, Cho & Bengio (2015), Fig. 2",
    "short_source": "Bahdanau et al. 2015",
    "statement": (
        "The basic encoder-decoder (RNNencdec) gets worse as the source gets longer; the attention model "
        "(RNNsearch-50) does not: its quality holds up on long sentences."
    ),
    "measure_in_paper": "BLEU of English-to-French translations, by source sentence length",
}

COLUMNS = ["Model", "Source length", "Token accuracy", "Whole sequence correct", "In training range"]

# ------------------------------------------------------------------------------- data


def make_batch(
    batch: int, length: int, vocab: int, task: str, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random source sequences of ``length`` tokens in ``[0, vocab)`` and their targets."""
    x = torch.randint(0, vocab, (batch, length), generator=gen)
    y = x if task == "copy" else x.flip(1)
    return x, y.clone()


def training_lengths(cfg: Seq2SeqBottleneckConfig, gen: torch.Generator) -> list[int]:
    """The source length of every training step, drawn uniformly from the training range."""
    return torch.randint(cfg.train_min_len, cfg.train_max_len + 1, (cfg.steps,), generator=gen).tolist()


# ----------------------------------------------------------------------------- models


class AdditiveAttention(nn.Module):
    """Bahdanau's score ``v^T tanh(W s + U h)``; ``U h`` is computed once per source sequence."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.W = nn.Linear(hidden, hidden, bias=False)
        self.U = nn.Linear(hidden, hidden, bias=False)
        self.v = nn.Linear(hidden, 1, bias=False)

    def keys(self, annotations: torch.Tensor) -> torch.Tensor:
        return self.U(annotations)

    def scores(self, state: torch.Tensor, keys: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """``out`` (inference only): a (batch, n, hidden) buffer reused at every step instead of a new tensor."""
        # tanh in place: the sum is not needed for backward, so one (batch, n, hidden) tensor per step, not two
        summed = torch.add(self.W(state).unsqueeze(1), keys, out=out)
        return self.v(summed.tanh_()).squeeze(-1)


class DotAttention(nn.Module):
    """Luong's ``dot`` score ``s . h``: no weights of its own."""

    def keys(self, annotations: torch.Tensor) -> torch.Tensor:
        return annotations

    def scores(self, state: torch.Tensor, keys: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return torch.bmm(keys, state.unsqueeze(-1)).squeeze(-1)


class Seq2Seq(nn.Module):
    """GRU encoder-decoder; ``attention=None`` feeds the encoder's last state as the context at every step."""

    def __init__(self, vocab: int, hidden: int, attention: str | None) -> None:
        super().__init__()
        self.vocab = vocab
        self.src_embed = nn.Embedding(vocab, hidden)
        self.tgt_embed = nn.Embedding(vocab + 1, hidden)  # + the start token, id ``vocab``
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.cell = nn.GRUCell(2 * hidden, hidden)
        self.attention: nn.Module | None
        if attention is None:
            self.attention = None
        elif attention == "additive":
            self.attention = AdditiveAttention(hidden)
        elif attention == "dot":
            self.attention = DotAttention()
        else:
            raise KeyError(attention)
        self.readout = nn.Linear(2 * hidden, vocab)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Annotations ``(batch, n, hidden)`` and the last state ``(batch, hidden)``."""
        annotations, last = self.encoder(self.src_embed(x))
        return annotations, last[0]

    def step(
        self,
        prev_token: torch.Tensor,
        state: torch.Tensor,
        annotations: torch.Tensor,
        keys: torch.Tensor | None,
        summary: torch.Tensor,
        scratch: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One decoder step: ``(logits, new state, attention weights or None)``."""
        if self.attention is None or keys is None:
            context, weights = summary, None
        else:
            weights = torch.softmax(self.attention.scores(state, keys, out=scratch), dim=-1)
            context = torch.bmm(weights.unsqueeze(1), annotations).squeeze(1)
        state = self.cell(torch.cat([self.tgt_embed(prev_token), context], dim=-1), state)
        return self.readout(torch.cat([state, context], dim=-1)), state, weights

    def forward(self, x: torch.Tensor, decoder_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced logits ``(batch, m, vocab)`` and attention weights ``(batch, m, n)`` (None without)."""
        annotations, last = self.encode(x)
        keys = self.attention.keys(annotations) if self.attention is not None else None
        state, logits, weights = last, [], []
        for i in range(decoder_input.size(1)):
            out, state, w = self.step(decoder_input[:, i], state, annotations, keys, last)
            logits.append(out)
            if w is not None:
                weights.append(w)
        return torch.stack(logits, 1), (torch.stack(weights, 1) if weights else None)

    def greedy(self, x: torch.Tensor, length: int) -> torch.Tensor:
        """Decode ``length`` tokens, feeding back the model's own argmax at each step."""
        annotations, last = self.encode(x)
        keys = self.attention.keys(annotations) if self.attention is not None else None
        # One score buffer for all steps: a fresh (batch, n, hidden) tensor per step fragments the CPU heap
        # (small tensors that outlive a step land in the freed block), and RSS then grows with the length.
        scratch = torch.empty_like(keys) if isinstance(self.attention, AdditiveAttention) else None
        state = last
        token = torch.full((x.size(0),), self.vocab, dtype=torch.long, device=x.device)
        out = torch.empty(x.size(0), length, dtype=torch.long, device=x.device)
        for i in range(length):
            logits, state, _ = self.step(token, state, annotations, keys, last, scratch)
            token = logits.argmax(-1)
            out[:, i] = token
        return out


def decoder_input(y: torch.Tensor, vocab: int) -> torch.Tensor:
    """Teacher forcing: the start token, then the target shifted right by one."""
    start = torch.full((y.size(0), 1), vocab, dtype=y.dtype, device=y.device)
    return torch.cat([start, y[:, :-1]], dim=1)


def build_model(kind: str, cfg: Seq2SeqBottleneckConfig) -> Seq2Seq:
    """``kind`` is ``"plain"`` or ``"attention"``; both start from the same seed."""
    seed_everything(cfg.seed)
    return Seq2Seq(cfg.vocab, cfg.hidden, cfg.attention if kind == "attention" else None)


def train_step(
    model: Seq2Seq, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, vocab: int
) -> torch.Tensor:
    """One teacher-forced Adam step; returns the loss (on the device, not synchronised)."""
    logits, _ = model(x, decoder_input(y, vocab))
    loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.detach()


def train(
    kind: str, cfg: Seq2SeqBottleneckConfig, device: torch.device, on_step: Any = None
) -> tuple[Seq2Seq, dict[str, Any]]:
    """Train one model for ``cfg.steps`` steps; both models see the same batches (same data seed)."""
    model = build_model(kind, cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
    lengths = training_lengths(cfg, gen)
    losses_t: list[torch.Tensor] = []
    start = time.perf_counter()
    model.train()
    for step, n in enumerate(lengths):
        x, y = make_batch(cfg.batch, n, cfg.vocab, cfg.task, gen)
        losses_t.append(train_step(model, opt, x.to(device), y.to(device), cfg.vocab))
        if on_step is not None:
            on_step(step + 1)
    # read once after training: a .item() per step would synchronise a GPU every step
    losses: list[float] = torch.stack(losses_t).cpu().tolist()
    train_s = time.perf_counter() - start
    every = max(1, cfg.steps // 50)
    return model, {
        "train_seconds": train_s,
        "final_train_loss": sum(losses[-20:]) / len(losses[-20:]),
        "parameters": sum(p.numel() for p in model.parameters()),
        "loss_curve": {"step": list(range(1, cfg.steps + 1, every)), "loss": losses[::every]},
    }


def evaluate(model: Seq2Seq, cfg: Seq2SeqBottleneckConfig, length: int, device: torch.device) -> dict[str, float]:
    """Greedy-decoding token and whole-sequence accuracy on ``cfg.test_samples`` held-out sequences."""
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1_000_003 + length)
    x, y = make_batch(cfg.test_samples, length, cfg.vocab, cfg.task, gen)
    model.eval()
    with torch.inference_mode():
        # in chunks: the attention's (chunk, n, hidden) temporaries stay bounded whatever test_samples is
        pred = torch.cat([model.greedy(c.to(device), length).cpu() for c in x.split(EVAL_CHUNK)])
    correct = pred == y
    return {
        "token_accuracy": correct.float().mean().item(),
        "sequence_accuracy": correct.all(dim=1).float().mean().item(),
    }


# --------------------------------------------------------------------------- the run


@in_config_threads
def run(config: Seq2SeqBottleneckConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Train the plain and the attention model, test both at every length; return the JSON-able result."""
    cfg = config
    track, device, env = begin_run(cfg.device, progress)
    kinds = tuple(MODEL_LABELS)
    # progress weighted by work: each test length costs about as much as a few training steps
    test_work = sum(cfg.test_lengths) * cfg.test_samples / max(1, cfg.batch * (cfg.train_min_len + cfg.train_max_len))
    per_model = cfg.steps + test_work
    total = len(kinds) * per_model
    report_every = max(1, cfg.steps // 20)
    track(0.0, "starting")
    accuracy: dict[str, list[float]] = {}
    sequence_accuracy: dict[str, list[float]] = {}
    training: dict[str, dict[str, Any]] = {}
    rows = []
    train_range = (cfg.train_min_len, cfg.train_max_len)
    for k, kind in enumerate(kinds):
        label = MODEL_LABELS[kind]
        base = k * per_model

        def on_step(step: int, label: str = label, base: float = base) -> None:
            if step % report_every == 0 and step < cfg.steps:
                track(0.99 * (base + step) / total, f"{label}: training step {step} of {cfg.steps}")

        model, info = train(kind, cfg, device, on_step)
        training[kind] = info
        track(0.99 * (base + cfg.steps) / total, f"{label}: trained in {info['train_seconds']:.1f} s; testing")
        accuracy[kind], sequence_accuracy[kind] = [], []
        done = base + cfg.steps
        for n in cfg.test_lengths:
            r = evaluate(model, cfg, n, device)
            accuracy[kind].append(r["token_accuracy"])
            sequence_accuracy[kind].append(r["sequence_accuracy"])
            in_range = train_range[0] <= n <= train_range[1]
            rows.append([label, n, r["token_accuracy"], r["sequence_accuracy"], "yes" if in_range else "no"])
            done += n * cfg.test_samples / max(1, cfg.batch * (cfg.train_min_len + cfg.train_max_len))
            track(0.99 * done / total, f"{label}: length {n}: token accuracy {r['token_accuracy']:.3f}")
        del model

    result = {
        "experiment": "seq2seq-bottleneck",
        "environment": {**env, "load_avg_1m_end": load_average()},
        "params": {**config_to_dict(cfg), "device": str(device)},
        "test_lengths": list(cfg.test_lengths),
        "train_range": list(train_range),
        "chance": 1.0 / cfg.vocab,
        "accuracy": accuracy,
        "sequence_accuracy": sequence_accuracy,
        "model_labels": {kind: MODEL_LABELS[kind] for kind in kinds},
        "attention_label": ATTENTION_LABELS[cfg.attention],
        "training": training,
        "claim": CLAIM,
        "table": {"columns": COLUMNS, "rows": rows},
        "summary": summarise(cfg, accuracy),
        "notes": [
            f"Task: {TASK_LABELS[cfg.task]} of random tokens (vocabulary {cfg.vocab}, chance = 1/{cfg.vocab} = "
            f"{1 / cfg.vocab:.3f}). Training lengths {cfg.train_min_len} to {cfg.train_max_len}, drawn "
            "uniformly, one per batch; longer test lengths are extrapolation (unshaded on the chart).",
            f"Both models: a one-directional GRU encoder (Bahdanau et al.'s is bidirectional) and a GRU "
            f"decoder of hidden size {cfg.hidden}, the same seed, the same "
            f"{cfg.steps} Adam steps (lr {cfg.lr:g}, grad-norm clip 1.0) on the same batches of {cfg.batch}. "
            "They differ only in the decoder's context: the encoder's last state at every step (no attention) "
            f"or an attention-weighted average of all encoder states ({ATTENTION_LABELS[cfg.attention]} score).",
            f"Test: greedy decoding of exactly n tokens, the model's own output fed back, on {cfg.test_samples} "
            "held-out sequences per length. Token accuracy counts matching positions; 'whole sequence correct' "
            "needs every token right.",
            f"Claim ({CLAIM['source']}): {CLAIM['statement']} The paper measured "
            f"{CLAIM['measure_in_paper']}; the dashed line is what that claim predicts here (the attention "
            "model keeping its accuracy at the shortest test length), not a number from the paper.",
            "A small, fixed budget on purpose: with more steps or a larger hidden size the plain model stores "
            "longer sequences, but its one vector has the same size at every length.",
        ],
    }
    result["notes"].extend(small_ops_run_notes(result["environment"]))
    track.done("done")
    return result


def summarise(cfg: Seq2SeqBottleneckConfig, accuracy: dict[str, list[float]]) -> dict[str, Any]:
    """Accuracy per model and length, its mean inside and beyond the training range, and the longest length >= 90 %."""
    lengths = list(cfg.test_lengths)

    def mean_where(accs: list[float], keep: Any) -> float | None:
        vals = [a for n, a in zip(lengths, accs, strict=True) if keep(n)]
        return sum(vals) / len(vals) if vals else None

    return {
        "chance": 1.0 / cfg.vocab,
        "accuracy": {kind: dict(zip(map(str, lengths), accs, strict=True)) for kind, accs in accuracy.items()},
        "mean_accuracy_in_training_range": {
            kind: mean_where(accs, lambda n: cfg.train_min_len <= n <= cfg.train_max_len)
            for kind, accs in accuracy.items()
        },
        "mean_accuracy_beyond_training_range": {
            kind: mean_where(accs, lambda n: n > cfg.train_max_len) for kind, accs in accuracy.items()
        },
        "longest_length_90pct": {
            kind: max((n for n, a in zip(lengths, accs, strict=True) if a >= 0.9), default=None)
            for kind, accs in accuracy.items()
        },
    }
