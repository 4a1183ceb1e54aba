"""Fixtures: the synthetic shop of ``synthetic.py`` as lines and as orders."""

from __future__ import annotations

import pandas as pd
import pytest

from onesearch.orders.schema import lines_to_orders

from .synthetic import synthetic_lines


@pytest.fixture(scope="session")
def lines() -> pd.DataFrame:
    return synthetic_lines()


@pytest.fixture(scope="session")
def orders(lines) -> pd.DataFrame:
    return lines_to_orders(lines)
