"""A small catalog of another vendor (lamps), with its schema, for the catalog and fact-checker tests."""
from __future__ import annotations

import json
from pathlib import Path

SCHEMA = {"fields": {
    "power_w": {"label": "power", "type": "quantity", "unit": "W", "units": {"W": 1, "watts": 1}, "nouns": ["power"],
                "answer": "The {product} draws {value}."},
    "colour": {"label": "colour", "type": "text", "vocabulary": ["black", "white"]},
    "ports": {"label": "ports", "type": "list", "vocabulary": ["USB-C", "HDMI"]},
    "size_cm": {"label": "size", "type": "dimensions", "unit": "cm", "units": {"cm": 1, "mm": 0.1}},
    "price_eur": {"label": "price", "type": "money", "unit": "EUR", "units": {"€": 1, "EUR": 1, "euros": 1}},
    "launched": {"label": "launch year", "type": "year", "nouns": ["launched"]},
    "accessories": {"label": "accessories", "type": "products"},
}}
PRODUCTS = [{"code": "LUX-1001", "name": "Aurora", "category": "lamp",
             "specs": {"power_w": 9, "colour": "black", "ports": ["USB-C"], "size_cm": "20 x 20 x 40"},
             "price_eur": 49.0, "launched": 2022, "accessories": ["LUX-2002"]},
            {"code": "LUX-2002", "name": "Aurora Shade", "category": "accessory", "specs": {"colour": "white"},
             "price_eur": 15.5}]


def write(folder: Path, products: list, schema: dict | None = SCHEMA, inside: bool = False) -> Path:
    catalog = {"vendor": "Lumen & Co", "products": products}
    if inside:
        catalog["fields"] = schema["fields"]
    elif schema is not None:
        (folder / "catalog.schema.json").write_text(json.dumps(schema))
    path = folder / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path
