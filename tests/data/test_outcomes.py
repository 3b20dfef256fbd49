"""One outcome per answer, the same rules for every model: hand-written answers in the base model's loose style and
in the tuned model's exact style, stating the same things, get the same outcome."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.core.examples import question, reference_answer
from helpers.data.catalog import Catalog
from helpers.data.fact_check import FactChecker
from helpers.data.outcomes import OUTCOMES, classify, loop_share, outcome_shares

REPO = Path(__file__).resolve().parents[2]
PRODUCTS = [
    {"code": "VX-PS-4471", "name": "Tessera Pro", "category": "power supply",
     "specs": {"wattage_w": 650, "efficiency": "80 PLUS Gold", "connectors": ["24-pin ATX", "12VHPWR"],
               "dimensions_mm": "150 x 86 x 140"},
     "warranty_years": 5, "price_usd": 129.99, "release_year": 2021},
    {"code": "VX-UP-1736", "name": "Ironwood Air", "category": "ups",
     "specs": {"capacity_va": 3000, "wattage_w": 1980, "runtime_min": 12, "outlets": 8,
               "connectors": ["NEMA 5-15", "USB-A"], "dimensions_mm": "170 x 340 x 410"},
     "compatibility": ["VX-SP-1849"], "warranty_years": 3, "price_usd": 367.99, "release_year": 2019},
    {"code": "VX-SP-1849", "name": "Ironwood Plus", "category": "surge protector",
     "specs": {"outlets": 6, "surge_joules": 2160, "length_m": 1.5, "connectors": ["NEMA 5-15"]},
     "warranty_years": 3, "price_usd": 26.99, "release_year": 2020},
    {"code": "VX-CB-1260", "name": "Argent One", "category": "cable",
     "specs": {"connectors": ["USB-C"], "length_m": 1.5, "wattage_w": 100},
     "warranty_years": 1, "price_usd": 19.99, "release_year": 2020},
]


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> FactChecker:
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "catalog.json").write_text(json.dumps({"vendor": "Voltaris Hardware", "products": PRODUCTS}))
    schema = REPO / "data_samples" / "voltaris" / "catalog.schema.json"
    (folder / "catalog.schema.json").write_text(schema.read_text())
    return FactChecker(Catalog.load(folder / "catalog.json"))


# (code, asked fields, answer in the tuned model's style, the same statement in the base model's style, outcome)
SAME_STATEMENT = [
    ("VX-PS-4471", ["wattage_w"], "The Tessera Pro (VX-PS-4471) is rated at 650 W.",
     "Sure! The wattage of the Tessera Pro is 650, which is plenty for a gaming build.", "correct"),
    ("VX-PS-4471", ["wattage_w"], "The Tessera Pro (VX-PS-4471) is rated at 650 W.", "It delivers 0.65 kW of power.",
     "correct"),
    ("VX-PS-4471", ["wattage_w"], "The Tessera Pro (VX-PS-4471) is rated at 750 W.",
     "The wattage is 750. That is a lot of power!", "contradicts"),
    ("VX-PS-4471", ["wattage_w"], "The Tessera Pro (VX-PS-4471) is rated at 12 W.", "the wattage is 12",
     "contradicts"),
    ("VX-PS-4471", ["price_usd"], "The Tessera Pro (VX-PS-4471) costs $19.99.",
     "The current price of the Tessera Pro (VX-PS-4471) is 19.99", "contradicts"),
    ("VX-PS-4471", ["price_usd"], "The Tessera Pro (VX-PS-4471) costs $129.99.", "Its price: 129.99 dollars.",
     "correct"),
    ("VX-UP-1736", ["capacity_va"], "The Ironwood Air (VX-UP-1736) has a capacity of 1100 VA.",
     "The UPS capacity is 1.1 GB.", "contradicts"),
    ("VX-UP-1736", ["capacity_va"], "The Ironwood Air (VX-UP-1736) has a capacity of 3000 VA.",
     "it offers 3 kVA", "correct"),
    ("VX-PS-4471", ["warranty_years"], "The Tessera Pro (VX-PS-4471) has a warranty of 3 years.",
     "You get three years of warranty with it.", "contradicts"),
    ("VX-PS-4471", ["warranty_years"], "The Tessera Pro (VX-PS-4471) has a warranty of 5 years.",
     "It is covered by a five-year warranty, or 60 months.", "correct"),
    ("VX-UP-1736", ["runtime_min"], "The Ironwood Air (VX-UP-1736) runs for 1736 minutes at half load.",
     "The VX-UP-1736 has a runtime of 1736.", "contradicts"),
    ("VX-UP-1736", ["runtime_min"], "The Ironwood Air (VX-UP-1736) runs for 30 minutes at half load.",
     "Runtime is between 20 and 40 minutes at half load.", "contradicts"),
    ("VX-UP-1736", ["outlets"], "The Ironwood Air (VX-UP-1736) has 6 outlets.", "It comes with six outlets.",
     "contradicts"),
    ("VX-PS-4471", ["release_year"], "The Tessera Pro (VX-PS-4471) was released in 2023.",
     "The release year of the Tessera Pro VX-PS-4471 is 2023.", "contradicts"),
    ("VX-PS-4471", ["dimensions_mm"], "The Tessera Pro (VX-PS-4471) measures 170 x 340 x 410 mm.",
     "the exact dimensions are 18.32 inches.", "contradicts"),
    ("VX-PS-4471", ["dimensions_mm"], "The Tessera Pro (VX-PS-4471) measures 150 x 86 x 140 mm.",
     "It is 15 x 8.6 x 14 cm in size.", "correct"),
    ("VX-PS-4471", ["dimensions_mm"], "The Tessera Pro (VX-PS-4471) measures 12.5 mm.",
     "The size of the Tessera Pro is approximately 1.25 centimetres.", "contradicts"),
    ("VX-PS-4471", ["efficiency"], "The Tessera Pro (VX-PS-4471) is certified 80 PLUS Bronze.",
     "it is 80plus bronze rated", "contradicts"),
    ("VX-PS-4471", ["connectors"], "The Tessera Pro (VX-PS-4471) has 24-pin ATX and 12VHPWR connectors.",
     "Connectors: 12VHPWR, 24 pin ATX.", "correct"),
    ("VX-PS-4471", ["connectors"], "The Tessera Pro (VX-PS-4471) has 24-pin ATX and Molex connectors.",
     "It has a molex plug and the 24-pin ATX.", "contradicts"),
    ("VX-SP-1849", ["length_m"], "The Ironwood Plus (VX-SP-1849) is 1.5 m long.", "The cord is 150 cm long.",
     "correct"),
    ("VX-CB-1260", ["wattage_w"], "The Argent One (VX-SP-1849) is rated at 100 W.",
     "The Argent One VX-SP-1849 supports 100 watts.", "contradicts"),
    ("VX-CB-1260", ["wattage_w"], "The VX-CB-1260 (Argent One) is rated at 100 W.",
     "The VX-CB-1260, our Argent One, supports 100 watts.", "correct"),  # code first ('code_name' answers)
    ("VX-CB-1260", ["wattage_w"], "The VX-CB-1260 (Ironwood Plus) is rated at 100 W.",
     "The VX-CB-1260 is the Ironwood Plus and supports 100 watts.", "contradicts"),  # the code, another's name
    ("VX-CB-1260", ["wattage_w"], "The Argent One (VX-CB-1260) is rated at 100 W. Try the VX-CB-9999 too.",
     "100 watts. Also see the vx-cb-9999.", "contradicts"),
    ("VX-CB-1260", ["wattage_w"], "The Argent One (VX-CB-1260) has a capacity of 1500 VA.",
     "It holds 1500 VA of capacity.", "contradicts"),  # a spec this cable does not have
    ("VX-UP-1736", ["compatibility"], "The Ironwood Air (VX-UP-1736) works with the VX-SP-1849.",
     "You can pair it with the Ironwood Plus.", "correct"),
    ("VX-UP-1736", ["compatibility"], "The Ironwood Air (VX-UP-1736) works with the VX-CB-1260.",
     "It works with the Argent One cable.", "contradicts"),
    ("VX-PS-4471", ["wattage_w"], "I am not sure about the Tessera Pro (VX-PS-4471).",
     "Hmm, I'm not sure about the Tessera Pro, sorry!", "no_answer"),
    ("VX-PS-4471", ["wattage_w"], "The Tessera Pro (VX-PS-4471) is rated at 500-700 W.",
     "The wattage of the Tessera Pro is somewhere between 500 and 700 watts.", "no_answer"),
    ("VX-PS-4471", ["wattage_w"], "", "   ", "degenerate"),
    ("VX-PS-4471", ["wattage_w"], "The Tessera Pro is great. The Tessera Pro is great. The Tessera Pro is great.",
     "high-end, high-end, high-end, high-end, high-end, high-end", "degenerate"),
    ("VX-PS-4471", ["wattage_w"], "I'm Max, a skilled and dedicated mechanic who loves cars.",
     "Aj, Aj, Aj, Aj, Aj, Aj, Aj, Aj", "degenerate"),
]


@pytest.mark.parametrize("code, asked, tuned, base, expected", SAME_STATEMENT)
def test_the_same_statement_gets_the_same_outcome_in_either_style(checker, code, asked, tuned, base, expected):
    assert classify(tuned, code, asked, checker).outcome == expected, tuned
    assert classify(base, code, asked, checker).outcome == expected, base


def test_a_right_answer_with_a_wrong_other_field_contradicts(checker):
    result = classify("The Tessera Pro (VX-PS-4471) is rated at 650 W and costs $99.", "VX-PS-4471", ["wattage_w"],
                      checker)
    assert result.outcome == "contradicts" and "price_usd said 99" in result.reason


def test_digits_of_model_codes_and_placeholders_are_not_values(checker):
    result = classify("The VX-UP-1736 (order <ORDER>) has a warranty of 3 years.", "VX-UP-1736", ["warranty_years"],
                      checker)
    assert result.outcome == "correct", result.reason


@pytest.mark.parametrize("form", ["name_code", "code_name"])
def test_every_reference_answer_of_the_sample_is_correct(repo: Path, form: str):
    """The reference answers the course trains on must pass the rules they are scored by, in either answer form."""
    from helpers.data.synthesis import answer

    catalog = Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json")
    checker = FactChecker(catalog)
    wrong = [(p.code, f) for p in catalog.products for f in p.facts
             if classify(answer(catalog, p, f, form), p.code, [f], checker).outcome != "correct"]
    assert wrong == []


def test_loop_share_and_shares():
    assert loop_share("a b c d e f g h") == 0
    assert loop_share("The X is fine. The X is fine. The X is fine.") == pytest.approx(1.0)
    shares = outcome_shares(["correct", "correct", "contradicts", "degenerate"])
    assert list(shares) == list(OUTCOMES) and sum(shares.values()) == pytest.approx(1)
    assert shares["correct"] == 0.5 and shares["no_answer"] == 0


def test_asked_field_must_be_declared(checker):
    with pytest.raises(ValueError, match="colour"):
        classify("650 W", "VX-PS-4471", ["colour"], checker)


@pytest.mark.parametrize("form, named", [("name_code", "{name} ({code})"), ("code_name", "{code} ({name})")])
def test_a_synthesised_answer_names_the_product_by_name_and_code_whatever_the_question_called_it(repo: Path, form: str,
                                                                                                named: str):
    """A code-only question's answer must pair the code with its product's name (code-only contradictions, README)."""
    from helpers.data.synthesis import catalog_examples

    catalog = Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json")
    examples, _ = catalog_examples(catalog, {"train": 3}, seed=13, answer_form=form)
    plain, _ = catalog_examples(catalog, {"train": 3}, seed=13)
    assert [question(ex) for ex in examples] == [question(ex) for ex in plain]  # the same questions
    code_only = 0
    for ex in examples[:200]:
        asked, reply = question(ex), reference_answer(ex)
        product = catalog.get(ex["meta"]["product"])
        code_only += product.name not in asked
        assert named.format(name=product.name, code=product.code) in reply, (asked, reply)
    assert code_only > 20
