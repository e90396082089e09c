"""The chart layout every experiment's figure passes through, and the data table in the chart's words."""
from __future__ import annotations

import copy
import itertools
import math

from experiments.bench.chart_layout import MIN_LOG_TICK_SPACING, normalise_figure
from experiments.bench.tables import display_table, labelled_table, table_records


def figure(*traces: dict, **layout) -> dict:
    return {"data": [{"type": "scatter", **trace} for trace in traces], "layout": layout}


def test_the_legend_sits_below_the_plot_in_rows_and_the_title_top_left():
    layout = normalise_figure(figure({"x": [1], "y": [2]}, legend={"orientation": "v", "y": -0.2}))["layout"]

    assert layout["legend"]["orientation"] == "h"
    assert (layout["legend"]["yref"], layout["legend"]["y"], layout["legend"]["yanchor"]) == ("container", 0, "bottom")
    assert (layout["title"]["x"], layout["title"]["xanchor"], layout["title"]["yanchor"]) == (0, "left", "top")
    assert "width" not in layout and layout["autosize"] is True


def test_every_axis_makes_room_for_its_own_labels():
    layout = normalise_figure(figure({"x": [1], "y": [2]}, xaxis={"title": {"text": "Length (tokens)"}}, yaxis2={}))
    layout = layout["layout"]

    assert layout["xaxis"]["automargin"] is True and layout["yaxis2"]["automargin"] is True
    assert layout["xaxis"]["title"]["text"] == "Length (tokens)"


def test_a_log_axis_spanning_many_decades_is_labelled_at_whole_decades_only():
    tiny = normalise_figure(figure({"x": [1, 2], "y": [1e-40, 1.0]}, yaxis={"type": "log"}))["layout"]["yaxis"]
    usual = normalise_figure(figure({"x": [1, 2], "y": [0.5, 300.0]}, yaxis={"type": "log"}))["layout"]["yaxis"]

    assert tiny["tick0"] == 0 and tiny["dtick"] == math.ceil(40 / 6) and tiny["exponentformat"] == "power"
    assert usual["tick0"] == 0 and usual["dtick"] == 1 and usual["exponentformat"] == "none"  # 1, 10, 100


def test_a_log_axis_spanning_less_than_two_decades_is_labelled_at_1_2_5_steps_in_full():
    axis = normalise_figure(figure({"x": [1, 2], "y": [0.3, 3.0]}, yaxis={"type": "log"}))["layout"]["yaxis"]

    assert axis["tickvals"] == [0.2, 0.5, 1.0, 2.0]
    assert axis["exponentformat"] == "none"


def test_axes_that_share_a_range_are_labelled_over_the_whole_shared_range():
    fig = figure(
        {"x": [1, 2], "y": [0.5, 2.0], "xaxis": "x", "yaxis": "y"},
        {"x": [1, 2], "y": [50.0, 300.0], "xaxis": "x2", "yaxis": "y2"},
        yaxis={"type": "log"}, yaxis2={"type": "log", "matches": "y"},
    )
    layout = normalise_figure(fig)["layout"]

    assert layout["yaxis"]["dtick"] == 1 and "tickvals" not in layout["yaxis"]  # 0.5 to 300, not 0.5 to 2


def test_explicit_log_ticks_too_close_to_read_are_thinned_keeping_both_ends():
    ticks = [4, 10, 16, 50, 64, 100, 200, 500, 1000]
    axis = normalise_figure(figure({"x": ticks, "y": ticks}, xaxis={"type": "log", "tickvals": ticks}))["layout"]
    kept = axis["xaxis"]["tickvals"]

    assert kept[0] == 4 and kept[-1] == 1000 and 64 not in kept
    span = math.log10(1000 / 4)
    assert all(math.log10(b / a) >= span * MIN_LOG_TICK_SPACING for a, b in itertools.pairwise(kept))


def test_hover_names_each_axis_with_its_unit_unless_the_figure_says_otherwise():
    fig = figure(
        {"x": [1], "y": [2], "name": "LSTM"},
        {"x": [1], "y": [2], "name": "own", "hovertemplate": "mine<extra></extra>"},
        xaxis={"title": {"text": "Sequence length (tokens)"}}, yaxis={"title": {"text": "Median time (ms)"}},
    )
    data = normalise_figure(fig)["data"]

    assert "Sequence length (tokens): %{x}" in data[0]["hovertemplate"]
    assert "Median time (ms): %{y" in data[0]["hovertemplate"] and data[0]["hovertemplate"].startswith("LSTM")
    assert data[1]["hovertemplate"] == "mine<extra></extra>"


def test_a_heatmaps_hover_names_its_words_and_its_colour_scale():
    fig = figure(
        {"type": "heatmap", "x": ["The", "cat"], "y": ["The", "cat"], "z": [[1, 0], [0.5, 0.5]],
         "colorbar": {"title": {"text": "attention weight"}}},
        xaxis={"title": {"text": "Key token"}}, yaxis={"title": {"text": "Query token"}},
    )
    template = normalise_figure(fig)["data"][0]["hovertemplate"]

    assert template == "Key token: %{x}<br>Query token: %{y}<br>attention weight: %{z:.4~g}<extra></extra>"


def test_normalising_leaves_its_input_alone_and_a_second_time_changes_nothing():
    fig = figure({"x": [1, 2, 3], "y": [0.3, 3.0, 30.0]}, yaxis={"type": "log"}, xaxis={"type": "log",
                 "tickvals": [1, 2, 3]}, width=800)
    before = copy.deepcopy(fig)

    once = normalise_figure(fig)

    assert fig == before
    assert normalise_figure(once) == once


def test_a_table_is_stored_in_the_charts_words_and_read_back_by_code_name():
    table = labelled_table(
        ["model", "seq_len", "median_ms"], [["lstm", 10, 1.5]],
        column_labels={"model": "Model", "seq_len": "Sequence length (tokens)", "median_ms": "Median (ms)"},
        value_labels={"model": {"lstm": "LSTM"}},
    )

    assert table == {"columns": ["Model", "Sequence length (tokens)", "Median (ms)"], "rows": [["LSTM", 10, 1.5]]}
    labels = {"model": "Model", "seq_len": "Sequence length (tokens)", "median_ms": "Median (ms)"}
    records = table_records(table, column_labels=labels, value_labels={"model": {"lstm": "LSTM"}})
    assert records == [{"model": "lstm", "seq_len": 10, "median_ms": 1.5}]


def test_a_table_stored_with_code_names_is_shown_in_the_charts_words():
    old = {"columns": ["model", "median_ms"], "rows": [["lstm", 1.5]]}
    labels = {"model": "Model", "median_ms": "Median (ms)"}

    shown = display_table(old, column_labels=labels, value_labels={"model": {"lstm": "LSTM"}})

    assert shown == {"columns": ["Model", "Median (ms)"], "rows": [["LSTM", 1.5]]}
    assert display_table(shown, column_labels=labels, value_labels={"model": {"lstm": "LSTM"}}) == shown
    assert table_records(old, column_labels=labels) == [{"model": "lstm", "median_ms": 1.5}]
