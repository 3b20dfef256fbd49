"""The catalog and the spec checker on hand-made answers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.data.catalog import Catalog, CatalogError, format_value, spec_mentions

PSU = {"code": "VX-PS-4471", "name": "Tessera Pro", "category": "power supply",
       "specs": {"wattage_w": 650, "efficiency": "80 PLUS Gold", "connectors": ["24-pin ATX", "12VHPWR"],
                 "dimensions_mm": "150 x 86 x 140"},
       "compatibility": [], "warranty_years": 5, "price_usd": 129.99, "release_year": 2021}
CABLE = {"code": "VX-CB-1020", "name": "Kestrel Mini", "category": "cable",
         "specs": {"connectors": ["USB-C"], "length_m": 1.5, "wattage_w": 100},
         "compatibility": ["VX-CH-3003"], "warranty_years": 2, "price_usd": 19.99, "release_year": 2020}
CHARGER = {"code": "VX-CH-3003", "name": "Halcyon Air", "category": "charger", "specs": {"wattage_w": 65},
           "compatibility": ["VX-CB-1020"], "warranty_years": 1, "price_usd": 39.99, "release_year": 2022}


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"vendor": "Voltaris Hardware", "products": [PSU, CABLE, CHARGER]}))
    return Catalog.load(path)


@pytest.mark.parametrize("text, expected", [
    ("It is rated at 650 W.", {"wattage_w": [650]}),
    ("a 1200W unit with 80 Plus titanium", {"wattage_w": [1200], "efficiency": ["80 PLUS Titanium"]}),
    ("The UPS has 1500 VA and 8 AC outlets, about 12 minutes at half load",
     {"capacity_va": [1500], "outlets": [8], "runtime_min": [12]}),
    ("comes with a 3-year warranty and costs $1,299.00", {"warranty_years": [3], "price_usd": [1299.0]}),
    ("has a warranty of three years; released in 2019", {"warranty_years": [3], "release_year": [2019]}),
    ("a 1.5 m cable with USB-C and Lightning connectors", {"length_m": [1.5], "connectors": ["USB-C", "Lightning"]}),
    ("it measures 150 x 86 x 140 mm and absorbs 2160 J", {"dimensions_mm": ["150 x 86 x 140"], "surge_joules": [2160]}),
    ("Your order #556201 shipped on 3 March.", {}),
    ("Battery of 60 Wh, 5 mm thick", {}),
])
def test_spec_mentions(text: str, expected: dict) -> None:
    assert spec_mentions(text) == expected


def test_lookup_and_codes(catalog: Catalog) -> None:
    assert catalog.get("VX-PS-4471").name == "Tessera Pro"
    with pytest.raises(KeyError, match="VX-PS-0000"):
        catalog.get("VX-PS-0000")
    text = "Compare the VX-PS-4471 with the VX-PS-9999 and vx-cb-1020."
    assert catalog.find_codes(text) == ["VX-PS-4471", "VX-CB-1020"]
    assert catalog.find_unknown_codes(text) == ["VX-PS-9999"]
    assert catalog.find_names("is the tessera pro any good?") == ["VX-PS-4471"]


def test_check_answer_correct_wrong_and_invented(catalog: Catalog) -> None:
    good = catalog.check_answer("The Tessera Pro (VX-PS-4471) is rated at 650 W, 80 PLUS Gold, 5-year warranty.",
                                "VX-PS-4471")
    assert set(good.correct_fields) == {"wattage_w", "efficiency", "warranty_years"}
    assert not good.hallucinated and good.states_correctly(["wattage_w"])
    bad = catalog.check_answer("The Tessera Pro is rated at 750 W and has a 12VHPWR and a Molex connector.",
                               "VX-PS-4471")
    assert bad.wrong_fields == {"wattage_w": [750], "connectors": ["12VHPWR", "Molex"]}
    assert bad.hallucinated and not bad.states_correctly(["wattage_w"])
    invented = catalog.check_answer("Try the VX-PS-1234 instead.", "VX-PS-4471")
    assert invented.unknown_codes == ["VX-PS-1234"] and invented.hallucinated
    silent = catalog.check_answer("I am not sure.", "VX-PS-4471")
    assert not silent.hallucinated and not silent.states_correctly(["wattage_w"])


def test_compatibility_and_unchecked(catalog: Catalog) -> None:
    ok = catalog.check_answer("The Kestrel Mini works with the VX-CH-3003.", "VX-CB-1020")
    assert ok.correct_fields == {"compatibility": ["VX-CH-3003"]}
    wrong = catalog.check_answer("The Kestrel Mini works with the VX-PS-4471.", "VX-CB-1020")
    assert "compatibility" in wrong.wrong_fields
    unchecked = catalog.check_answer("It has 6 outlets.", "VX-CH-3003")
    assert unchecked.unchecked_fields == {"outlets": [6]} and not unchecked.hallucinated


def test_correct_replaces_wrong_values(catalog: Catalog) -> None:
    text, left = catalog.correct("The Tessera Pro is rated at 750 W and costs $149.99 (3-year warranty).",
                                 "VX-PS-4471")
    assert text == "The Tessera Pro is rated at 650 W and costs $129.99 (5-year warranty)."
    assert left == []
    _, left = catalog.correct("It has a Molex connector.", "VX-PS-4471")
    assert left == ["connectors"]


def test_format_value_round_trips() -> None:
    for field, value in PSU["specs"].items():
        if field != "connectors":
            assert spec_mentions(f"It has {format_value(field, value)}.").get(field) == [value]
    assert spec_mentions(f"It costs {format_value('price_usd', 129.99)}.") == {"price_usd": [129.99]}
    assert spec_mentions(f"with a {format_value('warranty_years', 5)} warranty") == {"warranty_years": [5]}


def test_bad_catalog_names_the_product(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"products": [dict(PSU, name="ArcLine 1200")]}))
    with pytest.raises(CatalogError, match="VX-PS-4471.*digits"):
        Catalog.load(path)
    path.write_text(json.dumps({"products": [{k: v for k, v in PSU.items() if k != "price_usd"}]}))
    with pytest.raises(CatalogError, match="price_usd"):
        Catalog.load(path)


def test_sample_catalog_shape(repo: Path) -> None:
    catalog = Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json")
    assert len(catalog.products) >= 60 and len(set(catalog.codes)) == len(catalog.products)
    for p in catalog.products:
        assert not any(ch.isdigit() for ch in p.name)
