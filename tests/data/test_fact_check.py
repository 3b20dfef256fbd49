"""Reading values out of text with any catalog's declared fields, checking them, and correcting them in place."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.data.catalog import Catalog
from helpers.data.fact_check import FactChecker
from helpers.data.outcomes import classify
from helpers.data.synthesis import answer

from support.catalogs import PRODUCTS, write


@pytest.fixture(scope="module")
def lamps(tmp_path_factory: pytest.TempPathFactory) -> FactChecker:
    return FactChecker(Catalog.load(write(tmp_path_factory.mktemp("lamps"), PRODUCTS)))


@pytest.fixture(scope="module")
def voltaris(repo: Path) -> FactChecker:
    return FactChecker(Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json"))


@pytest.mark.parametrize("text, right, wrong", [
    ("The Aurora (LUX-1001) draws 9 W.", {"power_w"}, set()),
    ("Its power is 9.", {"power_w"}, set()),
    ("It draws 12 watts and costs €49.00.", {"price_eur"}, {"power_w"}),
    ("It costs 45 euros, launched in 2021.", set(), {"price_eur", "launched"}),
    ("It measures 200 x 200 x 400 mm and comes in black.", {"size_cm", "colour"}, set()),
    ("It has HDMI and USB-C ports.", set(), {"ports"}),
    ("Pair it with the Aurora Shade.", {"accessories"}, set()),
])
def test_another_vendors_fields_are_read_and_checked(lamps: FactChecker, text: str, right: set, wrong: set) -> None:
    check = lamps.check(text, "LUX-1001")
    assert set(check.correct_fields) == right and set(check.wrong_fields) == wrong, (check.correct_fields,
                                                                                      check.wrong_fields)


def test_a_name_with_another_products_code_is_a_wrong_product(voltaris: FactChecker) -> None:
    name = voltaris.catalog.get("VX-CB-1260").name
    check = voltaris.check(f"The {name} (VX-SP-1849) is 1.5 m long.", "VX-CB-1260")
    assert check.hallucinated and check.wrong_products == [f"{name} with code VX-SP-1849"]


def test_correct_replaces_wrong_values_and_reports_what_stays_wrong(voltaris: FactChecker) -> None:
    product = voltaris.catalog.get("VX-PS-5002")  # 550 W, $155.99, 10-year warranty
    text, left = voltaris.correct(f"The {product.name} is rated at 750 W and costs $149.99 (3-year warranty).",
                                  product.code)
    assert text == f"The {product.name} is rated at 550 W and costs $155.99 (10-year warranty)."
    assert left == []
    fixed, left = voltaris.correct("It delivers 0.9 kW.", product.code)
    assert fixed == "It delivers 550 W." and left == []
    _, left = voltaris.correct("It has a Molex connector.", product.code)
    assert left == ["connectors"]
    _, left = voltaris.correct("Try the VX-PS-0000 instead.", product.code)
    assert left == ["model code"]


def test_numbers_that_are_not_specs_are_left_alone(voltaris: FactChecker) -> None:
    check = voltaris.check("Your order #556201 shipped on 3 March; call us on <PHONE>. Battery of 60 Wh.",
                           "VX-PS-5002")
    assert not check.states_anything and not check.hallucinated


def test_an_invented_name_in_front_of_a_real_code_is_a_wrong_product(voltaris: FactChecker) -> None:
    product = voltaris.catalog.get("VX-CB-1260")
    check = voltaris.check("The Ironwood Core (VX-CB-1260) has a USB-C connector.", product.code)
    assert check.wrong_products == ["Ironwood Core with code VX-CB-1260"]
    for fine in (f"The {product.name} (VX-CB-1260) is great.", "The VX-CB-1260 is great.",
                 "Voltaris VX-CB-1260 is great.", "Hello, the model VX-CB-1260 is great."):
        assert not voltaris.check(fine, product.code).wrong_products, fine


def test_every_reference_answer_of_the_second_domain_is_correct(repo: Path) -> None:
    """Kitchen appliances (litres, dB(A), bar, place settings, an energy class, colours, cm, euros): the
    synthesised reference answer of every fact of every product classifies 'correct' by the one outcome rule."""
    catalog = Catalog.load(repo / "data_samples" / "hearthline" / "catalog.json")
    checker = FactChecker(catalog)
    outcomes = {(p.code, name): classify(answer(catalog, p, name), p.code, [name], checker).outcome
                for p in catalog.products for name in p.facts}
    assert len(outcomes) > 150 and len({name for _, name in outcomes}) == len(catalog.fields)
    assert {k: v for k, v in outcomes.items() if v != "correct"} == {}


@pytest.mark.parametrize("code, text, right, wrong", [
    ("KE-6340-EU", "It holds 1,500 ml and draws 2.2 kW.", {"capacity_l", "power_w"}, set()),
    ("DW-4148-EU", "It uses 9.5 litres of water per cycle and takes 12 place settings.", {"water_l", "place_settings"},
     set()),
    ("DW-4148-EU", "Energy class B, 45 dB(A), costs 725.99 EUR.", {"noise_db", "price_eur"}, {"energy_class"}),
    ("DW-4148-EU", "It measures 598 x 815 x 600 mm; a 1.5 litre kettle is not a dishwasher.", {"dimensions_cm"},
     {"capacity_l"}),
])
def test_the_second_domains_units_and_words(repo: Path, code: str, text: str, right: set, wrong: set) -> None:
    checker = FactChecker(Catalog.load(repo / "data_samples" / "hearthline" / "catalog.json"))
    check = checker.check(text, code)
    assert set(check.correct_fields) == right and set(check.wrong_fields) == wrong, (check.correct_fields,
                                                                                      check.wrong_fields)
