"""The module-6 lesson offers the layer-norm-placement experiment where it discusses Post-LN, Pre-LN and warm-up."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_module_six_embeds_the_layer_norm_placement_panel_after_the_listing(client, course):
    html = client.get("/courses/transformers-architecture/the-full-transformer/").content.decode()

    panel = html.find('<section class="experiment-panel" id="experiment-layer-norm-placement"')
    assert panel != -1
    heading = html.rfind("Which One Should You Use?")  # the last one: the heading, not the contents list
    assert html.find("ln_experiment") < panel < heading
