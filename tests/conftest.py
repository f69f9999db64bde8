"""Fixtures shared by the whole suite: the offer, its rendering, and ../shared data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ccm_azure.offer import Offer, load_offer
from ccm_azure.render import RenderedOffer, render_offer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def offer() -> Offer:
    return load_offer()


@pytest.fixture(scope="session")
def rendered(offer: Offer) -> RenderedOffer:
    return render_offer(offer)


@pytest.fixture
def main_template(rendered: RenderedOffer) -> dict[str, Any]:
    """A copy of the rendered main template that a test may change."""
    return copy.deepcopy(rendered.main_template)


@pytest.fixture
def ui_definition(rendered: RenderedOffer) -> dict[str, Any]:
    """A copy of the rendered createUiDefinition that a test may change."""
    return copy.deepcopy(rendered.ui_definition)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared: public data that tests read in place; skip the test without it."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present (it lives beside the repository)")
    return SHARED
