"""A tiny curated run directory (toy catalog, both tasks) for tests that need data but not notebook 01."""
from __future__ import annotations

import random
from pathlib import Path

from helpers.core.examples import ROUTING_INSTRUCTION, routing_answer, system_prompt
from helpers.core.runs import RunDir, open_run, write_json, write_jsonl

PRODUCTS = [("VX-PS-4471", "Tessera Pro", 650), ("VX-PS-2290", "Marlow", 450), ("VX-PS-8812", "Kestrel", 850),
            ("VX-PS-1034", "Orrin", 550), ("VX-PS-5567", "Brisa", 750), ("VX-PS-3321", "Halden", 1000)]
QUESTIONS = ["What is the rated wattage of the {name} ({code})?", "How many watts does the {name} ({code}) deliver?",
             "Tell me the power rating of the {name} ({code}).", "{code}: what wattage is the {name}?"]
SYSTEM_PROMPT = system_prompt("Voltaris Hardware")
TICKETS = [("where is my parcel, it has not arrived", "track_order"), ("I want my money back for this", "get_refund"),
           ("please cancel the order I placed today", "cancel_order"), ("my card was charged twice", "payment_issue")]


def _qa(code: str, name: str, watts: int, template: int) -> dict:
    return {"id": f"qa-{code}-{template}", "task": "product_qa",
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": QUESTIONS[template].format(name=name, code=code)},
                         {"role": "assistant", "content": f"The {name} ({code}) is rated at {watts} W."}],
            "meta": {"product": code, "category": "power_supply", "fields": {"wattage_w": watts}, "intent": None,
                     "group": code, "source": "catalog", "phrasing": f"t{template}"}}


def _routing(text: str, intent: str, i: int) -> dict:
    return {"id": f"rt-{i}", "task": "routing",
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": ROUTING_INSTRUCTION + text},
                         {"role": "assistant", "content": routing_answer(intent)}],
            "meta": {"product": None, "category": None, "fields": {}, "intent": intent, "group": f"rt-{i}",
                     "source": "bitext", "phrasing": None}}


def make_toy_run(runs_dir: Path, name: str = "toy") -> RunDir:
    """A run whose data/ holds train (phrasings 0-2), val, feedback and test (phrasing 3) splits and a catalog."""
    run = open_run(name, runs_dir)
    train = [_qa(c, n, w, t) for c, n, w in PRODUCTS for t in range(3)]
    train += [_routing(text + suffix, intent, i) for i, ((text, intent), suffix) in
              enumerate((tk, s) for tk in TICKETS for s in ("", " please", " asap"))]
    random.Random(0).shuffle(train)
    held_out = [_qa(c, n, w, 3) for c, n, w in PRODUCTS] + [_routing(t + " thanks", i, 100 + k)
                                                            for k, (t, i) in enumerate(TICKETS)]
    write_jsonl(run.data / "train.jsonl", train)
    write_jsonl(run.data / "val.jsonl", held_out)
    write_jsonl(run.data / "feedback.jsonl", held_out)
    write_jsonl(run.data / "test.jsonl", held_out)
    write_json(run.data / "catalog.json", {"vendor": "Voltaris Hardware", "fields": {"wattage_w": {
        "label": "power rating", "type": "quantity", "unit": "W", "units": {"W": 1, "watts": 1},
        "nouns": ["wattage", "power rating"], "answer": "The {product} is rated at {value}."}}, "products": [
        {"code": c, "name": n, "category": "power_supply", "specs": {"wattage_w": w}} for c, n, w in PRODUCTS]})
    return run


def add_preferences(run: RunDir) -> Path:
    """Preference pairs: the catalog answer chosen over answers with a wrong wattage, for every product and phrasing."""
    pairs = []
    for code, name, watts in PRODUCTS:
        for t in range(len(QUESTIONS)):
            ex = _qa(code, name, watts, t)
            for k in range(3):
                wrong = watts + 50 * (k + 1) * (1 if k % 2 else -1)
                pairs.append({"prompt": ex["messages"][:2],
                              "chosen": [{"role": "assistant", "content": f"The {name} ({code}) is rated at {watts} W."}],
                              "rejected": [{"role": "assistant", "content": f"The {name} ({code}) is rated at {wrong} W."}]})
    return write_jsonl(run.ratings / "preferences.jsonl", pairs)
