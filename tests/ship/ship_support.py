"""A small valid catalog (the toy run's power supplies with every required field) for the ship tests."""
from __future__ import annotations

from toy_run import PRODUCTS

from helpers.catalog import Catalog, Product


def toy_catalog() -> Catalog:
    """The toy run's six power supplies as a Catalog the checker can use."""
    return Catalog([Product(code, name, "power_supply", {"wattage_w": watts}, [], 5, 99.0, 2022)
                    for code, name, watts in PRODUCTS])
