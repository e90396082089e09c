"""attention-heads in ``perf/run_experiments.py``: the harness vs the same torch work in a bare loop, and a summary."""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F

from experiments.bench import attention_heads as ah
from experiments.bench.attention_heads_config import KV_DTYPE_BYTES, AttentionHeadsConfig
from experiments.bench.common import resolve_device, seed_everything, torch_threads


def bare_run(cfg: AttentionHeadsConfig) -> tuple[float, float]:
    """(wall, process CPU) seconds for the work of ``ah.run`` written as plain loops.

    Training, the held-out evaluations (all heads, each head masked, cumulative pruning), the example's maps and the
    KV tensors; no progress reports, no statistics, no result dict.
    """
    device = resolve_device(cfg.device)
    start, cpu = time.perf_counter(), time.process_time()
    with torch_threads(cfg.threads):
        seed_everything(cfg.seed)
        model = ah.AttentionOnlyTransformer(cfg.vocab, cfg.d_model, cfg.heads, cfg.layers, cfg.seq_len).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        for _ in range(cfg.steps):
            x, _, mask = ah.make_batch(cfg.batch, cfg.seq_len, cfg.vocab, gen)
            x, mask = x.to(device), mask.to(device)
            logits = model(x)[0]
            losses = F.cross_entropy(logits[:, :-1].reshape(-1, cfg.vocab), x[:, 1:].reshape(-1), reduction="none")
            loss = (losses.view(cfg.batch, -1) * mask).sum() / mask.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        chunks = ah.eval_chunks(cfg, device)
        total = cfg.layers * cfg.heads
        gate_sets = [None, torch.ones(cfg.layers, cfg.heads, device=device)]
        for i in range(total):  # each head alone
            g = torch.ones(cfg.layers, cfg.heads, device=device)
            g[divmod(i, cfg.heads)] = 0
            gate_sets.append(g)
        g = torch.ones(cfg.layers, cfg.heads, device=device)
        for i in range(total):  # cumulative pruning (the order does not change the work)
            g = g.clone()
            g[divmod(i, cfg.heads)] = 0
            gate_sets.append(g)
        with torch.inference_mode():
            for k, gates in enumerate(gate_sets):
                loss_sum = torch.zeros((), device=device)
                for x, lengths, mask in chunks:
                    logits, weights = model(x, gates)
                    loss_sum += (ah.token_losses(logits, x) * mask).sum()
                    if k == 0:
                        for w in weights:
                            ah.head_scores(w, lengths)
                loss_sum.item()
            example, _, _ = ah.make_batch(1, cfg.seq_len, cfg.vocab, torch.Generator().manual_seed(cfg.seed + 7))
            example = example.to(device)
            [w.cpu() for w in model(example)[1]]
            for _, kv_heads in ah.kv_variants(cfg.heads):
                ah.real_kv_cache(model, example, kv_heads, getattr(torch, cfg.kv_dtype))
    return time.perf_counter() - start, time.process_time() - cpu


def harness_run(cfg: AttentionHeadsConfig) -> tuple[float, float]:
    """(wall, process CPU) seconds of ``run()`` itself, with a progress sink as the worker has."""
    calls: list[float] = []
    start, cpu = time.perf_counter(), time.process_time()
    ah.run(cfg, lambda f, m: calls.append(f))
    return time.perf_counter() - start, time.process_time() - cpu


def overhead(cfg: AttentionHeadsConfig, repeats: int) -> dict[str, float]:
    """Fastest warm ``run()`` and fastest bare loop, timed ABBA (run, bare, bare, run) ``repeats // 2`` times.

    Both wall and process CPU time: on a shared machine other processes inflate the wall clock by several times,
    while a single-threaded run's CPU time counts only its own work.
    """
    harness, bare = [], []
    for _ in range(max(1, repeats // 2)):
        harness.append(harness_run(cfg))
        bare.extend([bare_run(cfg), bare_run(cfg)])
        harness.append(harness_run(cfg))
    return {
        "harness_wall_s": min(w for w, _ in harness),
        "bare_wall_s": min(w for w, _ in bare),
        "harness_cpu_s": min(c for _, c in harness),
        "bare_cpu_s": min(c for _, c in bare),
    }


def print_attention_heads(result: dict[str, Any]) -> None:
    s = result["summary"]
    print(
        f"loss {s['start_loss']:.2f} -> {s['final_train_loss']:.3f} nats (train); held-out {s['held_out_loss']:.3f} "
        f"nats, accuracy {s['held_out_accuracy']:.1%}; training {result['training']['seconds']:.1f} s wall, "
        f"{result['training']['cpu_seconds']:.1f} s CPU"
    )
    cols = result["table"]["columns"]
    print(f"{'head':6} {'loss +':>8} {'prev':>6} {'induct':>7}  role")
    for row in result["table"]["rows"]:
        r = dict(zip(cols, row, strict=True))
        print(
            f"{r['Head']:6} {r[cols[1]]:8.3f} {r['Previous-token score']:6.2f} {r['Induction score']:7.2f}  {r['Role']}"
        )
    print(
        "pruning curve (heads masked: loss):",
        ", ".join(f"{p['pruned']}: {p['loss']:.3f}" for p in result["pruning_curve"]),
    )
    kv = result["kv_cache"]
    print(
        f"KV cache at {kv['context']} tokens x batch {kv['batch']} ({kv['dtype']}, {KV_DTYPE_BYTES[kv['dtype']]} B): "
        + ", ".join(f"{v['label']} {v['bytes'] / 2**20:.3g} MiB" for v in kv["variants"])
        + f"; real tensors match the formula: {kv['real_tensors_match_formula']}"
    )
