"""The catalog and its declared fields: any vendor's catalog loads from its schema; bad ones fail naming the field."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.data.catalog import Catalog, CatalogError
from support.catalogs import PRODUCTS, SCHEMA, write


def test_another_vendors_catalog_loads_from_the_schema_beside_it(tmp_path: Path) -> None:
    catalog = Catalog.load(write(tmp_path, PRODUCTS))
    aurora = catalog.get("LUX-1001")
    assert aurora.facts["power_w"] == 9 and aurora.facts["launched"] == 2022 and aurora.label == "Aurora (LUX-1001)"
    assert catalog.format_value("price_eur", 49.0) == "€49.00"
    assert catalog.format_value("power_w", 9) == "9 W" and catalog.format_value("ports", ["USB-C", "HDMI"]) == \
        "USB-C and HDMI"
    assert catalog.find_unknown_codes("Try the LUX-9999 or the LUX-1001.") == ["LUX-9999"]
    assert catalog.find_names("the aurora shade and the Aurora") == ["LUX-2002", "LUX-1001"]


def test_the_run_copy_keeps_fields_and_products_in_one_file(tmp_path: Path) -> None:
    catalog = Catalog.load(write(tmp_path, PRODUCTS))
    (tmp_path / "run").mkdir()
    copy = Catalog.load(catalog.save(tmp_path / "run" / "catalog.json"))
    assert copy.to_dict() == catalog.to_dict() and set(copy.fields) == set(SCHEMA["fields"])
    assert Catalog.load(write(tmp_path, PRODUCTS, inside=True)).to_dict() == catalog.to_dict()


@pytest.mark.parametrize("change, message", [
    (lambda p: p[0]["specs"].update(weight_kg=2), r"LUX-1001 has field\(s\) \['weight_kg'\].*catalog.schema.json"),
    (lambda p: p[0].update(warranty=2), r"\['warranty'\] that the schema does not declare"),
    (lambda p: p[0]["specs"].update(colour="red"), r"colour.*'red' is not in its vocabulary"),
    (lambda p: p[0]["specs"].update(power_w="9 W"), r"'power_w' must be a number"),
    (lambda p: p[0]["specs"].update(size_cm="big"), r"'size_cm' must read like"),
    (lambda p: p[1].pop("name"), r"product #1 \(LUX-2002\) lacks name"),
    (lambda p: p[1].update(code="LUX-1001"), r"LUX-1001.*more than once"),
])
def test_a_bad_product_names_the_product_and_field(tmp_path: Path, change, message) -> None:
    products = json.loads(json.dumps(PRODUCTS))
    change(products)
    with pytest.raises(CatalogError, match=message):
        Catalog.load(write(tmp_path, products))


@pytest.mark.parametrize("field, declaration, message", [
    ("power_w", {"label": "power", "type": "number"}, r"'power_w' has type 'number'; declare one of quantity"),
    ("power_w", {"label": "power", "type": "quantity"}, r"'power_w' \(quantity\) needs 'unit' and 'units'"),
    ("colour", {"label": "colour", "type": "text"}, r"'colour' \(text\) needs a 'vocabulary'"),
    ("power_w", {"type": "quantity", "unit": "W", "units": {"W": 1}, "answer": "It is {value}."},
     r"'answer' must contain \{product\}"),
])
def test_a_bad_declaration_says_what_to_declare(tmp_path: Path, field, declaration, message) -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["fields"][field] = declaration
    with pytest.raises(CatalogError, match=message):
        Catalog.load(write(tmp_path, PRODUCTS, schema))


def test_a_catalog_without_declarations_says_where_to_write_them(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no field declarations: write .*catalog.schema.json"):
        Catalog.load(write(tmp_path, PRODUCTS, schema=None))


def test_the_sample_catalog_loads_with_its_schema(repo: Path) -> None:
    catalog = Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json")
    assert len(catalog.products) >= 60 and len(set(catalog.codes)) == len(catalog.products)
    assert catalog.get("VX-PS-5002").facts["warranty_years"] == 10
    assert catalog.code_shape.fullmatch("VX-PS-9999") and not catalog.code_shape.fullmatch("VX-PS-999")
