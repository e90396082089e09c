"""length-extrapolation at toy sizes: the position schemes against their formulas, the task, the run, the figure."""

from __future__ import annotations

import json
import math

import pytest
import torch

from experiments.bench import length_extrapolation as le
from experiments.bench import registry
from experiments.bench.params import ParamError
from tests.support.peak_memory import assert_estimate_within_tolerance, peak_and_estimate

NAME = "length-extrapolation"
TINY = {
    "train_len": 8,
    "eval_multiples": [1, 2],
    "steps": 4,
    "batch": 4,
    "d_model": 16,
    "heads": 2,
    "layers": 1,
    "vocab": 8,
    "period_min": 2,
    "period_max": 4,
    "eval_sequences": 8,
}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**overrides) -> le.LengthExtrapolationConfig:
    return registry.validate_params(NAME, {**TINY, **overrides}, "cpu")


# ------------------------------------------------------------------------------------ RoPE


def test_rope_rotates_pair_i_at_position_m_by_m_theta_i() -> None:
    d, base = 8, 10000.0
    x = torch.randn(5, d, generator=torch.Generator().manual_seed(0))
    rotated = le.apply_rope(x, le.rope_angles(torch.arange(5), d, base))
    for m in range(5):
        for i in range(d // 2):
            angle = m * base ** (-2 * i / d)
            rotation = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
            expected = rotation @ x[m, 2 * i : 2 * i + 2]
            assert torch.allclose(rotated[m, 2 * i : 2 * i + 2], expected, atol=1e-5)


def test_rope_scores_depend_only_on_the_offset() -> None:
    d = 16
    gen = torch.Generator().manual_seed(1)
    q, k = torch.randn(d, generator=gen), torch.randn(d, generator=gen)
    angles = le.rope_angles(torch.arange(64), d)
    queries, keys = le.apply_rope(q.expand(64, d), angles), le.apply_rope(k.expand(64, d), angles)
    scores = queries @ keys.T
    for offset in (-5, 0, 3, 17):
        diagonal = torch.diagonal(scores, offset=offset)  # every (m, m + offset) pair
        assert torch.allclose(diagonal, diagonal[0].expand_as(diagonal), atol=1e-4)
    assert not torch.allclose(scores[10, 13], scores[13, 10])  # direction matters, unlike sinusoidal PE


# ----------------------------------------------------------------------------------- ALiBi


def test_alibi_slopes_are_the_papers_geometric_sequence() -> None:
    assert le.alibi_slopes(8) == pytest.approx([2.0 ** (-h) for h in range(1, 9)])
    assert le.alibi_slopes(4) == pytest.approx([2.0 ** (-8 * h / 4) for h in range(1, 5)])
    # not a power of two: the 4-head slopes, then every other 8-head slope
    assert le.alibi_slopes(6) == pytest.approx([*le.alibi_slopes(4), 2.0**-1, 2.0**-3])


def test_alibi_bias_is_minus_slope_times_distance() -> None:
    heads, length = 4, 6
    bias = le.alibi_bias(length, heads)
    slopes = le.alibi_slopes(heads)
    for h in range(heads):
        for i in range(length):
            for j in range(i + 1):
                assert bias[h, i, j].item() == pytest.approx(-slopes[h] * (i - j))


def test_alibi_attention_adds_the_bias_to_the_scores() -> None:
    cfg = tiny()
    torch.manual_seed(0)
    attention = le.PositionAttention(cfg.d_model, cfg.heads, "alibi").eval()
    x = torch.randn(2, 5, cfg.d_model)
    q, k, v = attention.qkv(x).view(2, 5, 3, cfg.heads, -1).permute(2, 0, 3, 1, 4)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)) + le.alibi_bias(5, cfg.heads)
    scores = scores.masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(1), float("-inf"))
    expected = attention.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(2, 5, -1))
    with torch.no_grad():
        assert torch.allclose(attention(x), expected, atol=1e-6)


# ------------------------------------------------------------------------------------ task


def test_task_repeats_a_segment_of_distinct_tokens() -> None:
    cfg = tiny(vocab=16, train_len=32, period_min=3, period_max=8)
    x, y, determined = le.make_batch(64, 32, cfg, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == determined.shape == (64, 32)
    assert torch.equal(x[:, 1:], y[:, :-1])
    for row in range(64):
        period = int((~determined[row]).sum()) + 1  # targets 0..p-2 are the first copy's tokens 1..p-1
        assert 3 <= period <= 8
        seq = torch.cat([x[row, :1], y[row]])
        assert len(set(seq[:period].tolist())) == period
        assert torch.equal(seq[period:], seq[: len(seq) - period])


# ----------------------------------------------------------------------------- the models


def test_learned_positions_refuse_inputs_longer_than_training() -> None:
    model = le.PositionLM("learned", tiny())
    assert model(torch.zeros(1, 8, dtype=torch.long)).shape == (1, 8, 8)
    with pytest.raises(ValueError, match="learned absolute positions end at 8"):
        model(torch.zeros(1, 9, dtype=torch.long))
    for scheme in ("sinusoidal", "rope", "alibi", "nope"):
        assert le.PositionLM(scheme, tiny())(torch.zeros(1, 64, dtype=torch.long)).shape == (1, 64, 8)


def test_without_positions_the_last_token_cannot_see_the_order_before_it() -> None:
    """NoPE: causal attention pools the prefix as a set, so reordering it leaves the last output unchanged."""
    a, b = torch.tensor([[3, 1, 2, 5]]), torch.tensor([[1, 2, 3, 5]])
    for scheme, same in (("nope", True), ("sinusoidal", False), ("rope", False), ("alibi", False)):
        torch.manual_seed(0)
        model = le.PositionLM(scheme, tiny()).eval()
        with torch.no_grad():
            assert torch.allclose(model(a)[0, -1], model(b)[0, -1], atol=1e-5) is same, scheme


# -------------------------------------------------------------------------------- the run


@pytest.fixture(scope="module")
def run_result():
    progress: list[float] = []
    return le.run(tiny(), lambda f, m: progress.append(f)), progress


def test_result_fields(run_result) -> None:
    result, progress = run_result
    assert {"experiment", "environment", "params", "table", "summary", "notes", "accuracy", "loss"} <= set(result)
    assert result["environment"]["device"] == "cpu" and "load_avg_1m_end" in result["environment"]
    assert result["eval_lengths"] == [8, 16]
    assert set(result["accuracy"]) == {"sinusoidal", "learned", "rope", "alibi", "nope"}
    assert len(result["table"]["rows"]) == 10
    assert all(isinstance(row[0], str) and not row[0].islower() for row in result["table"]["rows"])  # human labels
    json.dumps(result, allow_nan=False)
    assert progress == sorted(progress) and progress[-1] == 1.0 and progress.count(1.0) == 1
    assert len(progress) >= 10


def test_learned_positions_past_the_training_length_are_not_applicable(run_result) -> None:
    result, _ = run_result
    assert result["accuracy"]["learned"][0] is not None
    assert result["accuracy"]["learned"][1] is None and result["loss"]["learned"][1] is None
    row = next(r for r in result["table"]["rows"] if r[0] == "Learned absolute" and r[1] == 16)
    assert row[3] == row[4] == "not applicable"
    others = [r for r in result["table"]["rows"] if r[0] != "Learned absolute"]
    assert all(isinstance(r[3], float) and 0 <= r[3] <= 1 and r[4] > 0 for r in others)


def test_deterministic_for_a_fixed_seed(run_result) -> None:
    again = le.run(tiny(schemes="rope"))
    assert again["accuracy"]["rope"] == run_result[0]["accuracy"]["rope"]
    assert again["loss"]["rope"] == run_result[0]["loss"]["rope"]
    other_seed = le.run(tiny(schemes="rope", seed=1))
    assert other_seed["loss"]["rope"] != run_result[0]["loss"]["rope"]


def test_a_short_training_run_lowers_the_loss() -> None:
    cfg = tiny(steps=60, batch=16, lr=1e-2, schemes="alibi")
    _, info = le.train("alibi", cfg, torch.device("cpu"))
    assert info["final_train_loss"] < 0.8 * info["first_train_loss"]


def test_figure_builds_from_a_real_result(run_result) -> None:
    fig = registry.get_experiment(NAME).figure(run_result[0])
    assert "bdata" not in json.dumps(fig)
    names = [trace["name"] for trace in fig["data"]]
    assert names[:5] == ["Sinusoidal", "Learned absolute (none past 8)", "RoPE", "ALiBi", "None (NoPE)"]
    learned = fig["data"][1]
    assert learned["x"] == [8]  # no made-up point past L
    claim = fig["data"][-1]
    assert claim["line"]["dash"] == "dash" and "Press et al. 2022" in claim["name"]
    assert fig["layout"]["xaxis"]["title"]["text"] and fig["layout"]["yaxis"]["title"]["text"]


# ---------------------------------------------------------------------------- validation


def test_defaults_are_valid_on_both_device_classes() -> None:
    cpu = registry.validate_params(NAME, {}, "cpu")
    cuda = registry.validate_params(NAME, {}, "cuda")
    assert cpu.eval_lengths() == (32, 64, 128, 256)
    assert cuda.train_len > cpu.train_len and cuda.steps > cpu.steps


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"d_model": 64, "heads": 3}, "heads"),
        ({"d_model": 20, "heads": 4}, "heads"),  # head dim 5: RoPE cannot pair the coordinates
        ({"period_min": 9, "period_max": 8}, "period_min"),
        ({"train_len": 16, "period_max": 9}, "period_max"),
        ({"vocab": 8, "period_max": 12}, "period_max"),
        ({"eval_multiples": [2, 4]}, "eval_multiples"),
        ({"train_len": 65}, "train_len"),
        ({"steps": 1501}, "steps"),
        ({"eval_multiples": [1, 9]}, "eval_multiples"),
        ({"schemes": "t5"}, "schemes"),
    ],
)
def test_bad_params_are_refused_with_the_field_named(params, field) -> None:
    with pytest.raises(ParamError) as excinfo:
        registry.validate_params(NAME, params, "cpu")
    assert field in excinfo.value.errors


def test_cuda_accepts_sizes_the_cpu_refuses() -> None:
    params = {"train_len": 256, "steps": 5000, "period_max": 64, "vocab": 64}
    with pytest.raises(ParamError):
        registry.validate_params(NAME, params, "cpu")
    assert registry.validate_params(NAME, params, "cuda").train_len == 256


# ------------------------------------------------------------------------ memory estimate


@pytest.mark.slow
@pytest.mark.parametrize(
    "params",
    [
        {},  # the defaults' shapes
        {"train_len": 64, "batch": 128, "eval_multiples": [1, 8], "d_model": 32, "heads": 2},
        {"train_len": 64, "batch": 32, "heads": 8, "layers": 4, "eval_multiples": [1, 4], "period_max": 16},
        {
            "train_len": 16,
            "batch": 16,
            "d_model": 128,
            "heads": 8,
            "layers": 4,
            "eval_multiples": [1, 2],
            "period_max": 8,
        },
    ],
)
def test_memory_estimate_is_within_a_factor_of_two_of_the_measured_peak(params) -> None:
    peak, estimate = peak_and_estimate(
        NAME, {"steps": 3, "eval_sequences": 16, "schemes": "alibi", **params}, warm_params={**TINY, "schemes": "alibi"}
    )
    assert peak is not None and peak > 16 * 2**20  # above the RSS noise floor
    assert_estimate_within_tolerance(estimate, peak, case=f"length-extrapolation {params}")


def test_memory_estimate_grows_with_the_longest_evaluation_length() -> None:
    short = registry.validate_params(NAME, {"eval_multiples": [1, 2]}, "cpu")
    long = registry.validate_params(NAME, {"eval_multiples": [1, 8]}, "cpu")
    assert long.peak_memory_bytes("cpu") > 4 * (short.peak_memory_bytes("cpu") - 8 * 2**20)
    assert long.peak_memory_bytes("cuda") <= long.peak_memory_bytes("cpu")
