"""The scoring factors against their formulas, computed by hand."""

from __future__ import annotations

import math

import pytest

from crossrank.score.entities import extract_entities
from crossrank.score.factors import (
    base_level_activation,
    base_level_reference,
    confidence_log_odds,
    spreading_activation,
    superseded,
)


def test_base_level_activation_is_actr_formula():
    now = 1_000_000.0
    assert base_level_activation([now - 100.0], now) == pytest.approx(-0.5 * math.log(100.0))
    both = base_level_activation([now - 100.0, now - 10_000.0], now)
    assert both == pytest.approx(math.log(100.0**-0.5 + 10_000.0**-0.5))
    assert base_level_activation([now - 100.0], now, decay=0.3) == pytest.approx(-0.3 * math.log(100.0))
    assert base_level_activation([], now) is None
    assert base_level_activation([now + 50.0], now) == pytest.approx(0.0)  # future access: one second old


def test_recent_and_frequent_beat_old_and_rare():
    now = 10_000_000.0
    old = base_level_activation([now - 5_000_000], now)
    recent = base_level_activation([now - 1_000], now)
    frequent = base_level_activation([now - 5_000_000] + [now - 86_400 * k for k in range(1, 10)], now)
    assert recent > old and frequent > old
    assert base_level_reference() == pytest.approx(-0.5 * math.log(30 * 86400))


def test_spreading_activation_with_fan_damping():
    fan = {"jwt": 1, "oauth": 20}
    assert spreading_activation(["jwt"], ["JWT"], fan, strength=3.0) == pytest.approx(3.0)
    assert spreading_activation(["jwt", "oauth"], ["jwt", "oauth"], fan, 3.0) == pytest.approx(
        0.5 * 3.0 + 0.5 * (3.0 - math.log(20))
    )
    assert spreading_activation(["oauth"], ["oauth"], {"oauth": 1000}, 3.0) == 0.0  # clipped at 0
    assert spreading_activation([], ["jwt"], fan, 3.0) == 0.0
    assert spreading_activation(["jwt"], ["redis"], fan, 3.0) == 0.0


def test_confidence_log_odds():
    assert confidence_log_odds(None, corroborations=5) == 0.0
    assert confidence_log_odds(0.5) == pytest.approx(0.0)
    assert confidence_log_odds(0.9) == pytest.approx(math.log(9))
    assert confidence_log_odds(0.9, corroborations=3) == pytest.approx(math.log(9) + math.log(4))
    assert confidence_log_odds(0.2) < 0


def test_superseded():
    assert superseded(1.0, 2.0) and not superseded(2.0, 2.0)
    assert not superseded(None, 2.0) and not superseded(1.0, None)


def test_entity_extractor():
    assert extract_entities("What is the current rate limit of the Acme Cloud API?") == [
        "acme cloud api",
        "acme",
        "cloud",
        "api",
    ]
    assert extract_entities("JWT tokens in OAuth expire") == ["jwt", "oauth"]
    assert extract_entities("PostgreSQL 16 was released in 2023") == ["postgresql", "2023"]
    assert extract_entities("how do tokens expire") == []
