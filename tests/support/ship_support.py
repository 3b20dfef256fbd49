"""The toy run's power supplies as a catalog and fact checker (Voltaris's declared fields) for the ship tests."""
from __future__ import annotations

import json
from pathlib import Path

from support.toy_run import PRODUCTS

from helpers.data.catalog import Catalog
from helpers.data.fact_check import FactChecker

SCHEMA = Path(__file__).resolve().parents[2] / "data_samples" / "voltaris" / "catalog.schema.json"


def toy_catalog() -> Catalog:
    """The toy run's six power supplies as a Catalog with the Voltaris field declarations."""
    return Catalog.from_dict({"vendor": "Voltaris Hardware", "fields": json.loads(SCHEMA.read_text())["fields"],
                              "products": [{"code": code, "name": name, "category": "power_supply",
                                            "specs": {"wattage_w": watts}, "warranty_years": 5, "price_usd": 99.0,
                                            "release_year": 2022} for code, name, watts in PRODUCTS]})


def toy_checker() -> FactChecker:
    """A fact checker over :func:`toy_catalog`."""
    return FactChecker(toy_catalog())
