"""Generate the Voltaris Hardware sample corpus: a catalog, docs, FAQ and messy support history.

Deterministic: the same arguments write the same bytes. The committed corpus was made with

    python data_samples/generate.py                     # -> data_samples/voltaris/ and data_samples/bitext/

and a second, small corpus "of the same shape" (other products, other numbers) with e.g.

    python data_samples/generate.py --out /tmp/other --products 24 --tickets 400 --seed 7 --no-bitext

What it writes into ``--out`` (default ``data_samples/voltaris``):

- ``catalog.json``      products: code, name, category, specs, compatibility, warranty, price, release year.
- ``catalog.schema.json`` what each field means and how it is written (copied: the vendor's declaration, not generated).
                        Names are invented words without digits, so they never give a spec value away.
- ``docs/<category>.md`` product documentation; ``faq.md`` the internal FAQ.
- ``tickets_2023.csv``  e-mail tickets (one row per ticket; quoted multi-line fields).
- ``chats_2024.jsonl``  chat transcripts (one JSON object per line).
- ``model_failures.jsonl`` questions a general model answered wrongly (question, wrong, correct).
- ``ground_truth.json`` the planted mess, per record and in total, for tests: PII values by type,
                        duplicates, near-duplicates, empty/truncated replies, spam, off-topic,
                        non-English, replies contradicting the catalog, malformed records (file, line).

The mess is planted at the rates in ``RATES`` (each a probability per ticket), the malformed
records at ``MALFORMED_RATE`` per file.

``data_samples/bitext/`` holds a per-intent sample of the real Bitext intent utterances (with its licence and
attribution). It was drawn from the full dataset with ``--bitext-source <path>/bitext_intents_20k.csv`` (the
licence is copied from beside that file). By default the generator reads the committed sample itself: a source
with at most 60 utterances per intent is already a sample and is written back as it is, so the generator (and
its byte-for-byte test) needs nothing outside the repository.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
BITEXT_SAMPLE = HERE / "bitext" / "intents_sample.csv"
SCHEMA = HERE / "voltaris" / "catalog.schema.json"
"""The field declarations of the Voltaris catalog: written by hand, as a vendor would, and copied into every corpus."""

RATES = {
    "html": 0.25,            # CSV tickets only: HTML markup and entities around the text
    "customer_signature": 0.35,
    "quoted_reply": 0.15,    # the customer's message quotes an earlier agent e-mail
    "email": 0.22, "phone": 0.2, "card": 0.04, "address": 0.08, "order": 0.3,
    "exact_duplicate": 0.04, "near_duplicate": 0.06,
    "empty_reply": 0.03, "truncated_reply": 0.03,
    "spam": 0.03, "off_topic": 0.02, "non_english": 0.04,
    "contradiction": 0.08,   # the agent states an outdated spec value
    "invented_successor": 0.02,  # the agent names a successor model that does not exist (not correctable)
}
MALFORMED_RATE = 0.015
GENERAL_SHARE = 0.18         # tickets about orders, shipping and returns rather than a spec

NAME_WORDS = ["Tessera", "Kestrel", "Halcyon", "Obsidian", "Meridian", "Aurora", "Vantage", "Cobalt",
              "Solace", "Ember", "Zephyr", "Nimbus", "Quill", "Argent", "Corvid", "Lumen", "Talon",
              "Verity", "Onyx", "Sable", "Cinder", "Aster", "Borealis", "Drift", "Flint", "Garnet",
              "Harbor", "Juniper", "Keystone", "Lattice", "Mosaic", "Orbit", "Pylon", "Quartz",
              "Summit", "Tundra", "Umber", "Vesper", "Willow", "Yarrow", "Zenith", "Alder", "Basalt",
              "Cypress", "Dune", "Fathom", "Glacier", "Heron", "Ironwood", "Jasper", "Kite", "Larch"]
NAME_SUFFIXES = ["Pro", "Mini", "Max", "Air", "Core", "Plus", "Flex", "Duo", "Edge", "Lite", "Ultra", "One"]
FIRST = ["Dana", "Marcus", "Priyanka", "Tomasz", "Aisha", "Kenji", "Lucia", "Oliver", "Fatima", "Noah",
         "Ingrid", "Rafael", "Mei", "Samuel", "Chloe", "Dmitri", "Grace", "Hector", "Yuki", "Leila",
         "Bruno", "Sofia", "Arjun", "Nadia", "Connor", "Elena", "Tariq", "Hannah", "Mateo", "Zoe"]
LAST = ["Whitfield", "Okafor", "Lindqvist", "Moreau", "Haddad", "Novak", "Castillo", "Brennan",
        "Sato", "Kowalski", "Abernathy", "Delacroix", "Petrov", "Oyelaran", "Fitzgerald", "Ramires",
        "Vance", "Holloway", "Achterberg", "Quinlan", "Marchetti", "Tanaka", "Ellison", "Baptiste"]
AGENTS = ["Priya", "Jonas", "Camille", "Andre", "Beatriz", "Liam"]
STREETS = ["Maple Avenue", "Harbor Street", "Elm Road", "Cedar Lane", "Sunset Boulevard", "Mill Road",
           "Oak Drive", "Riverside Way", "Kingsley Court", "Bay Street"]
CITIES = ["Springfield, IL 62704", "Portland, OR 97205", "Austin, TX 78701", "Leeds LS1 4AP",
          "Dublin D02 X285", "Toronto, ON M5V 2T6"]

# category -> (code letters, how many of each 12 products)
CATEGORIES = {"power supply": "PS", "ups": "UP", "cable": "CB", "adapter": "AD", "charger": "CH",
              "surge protector": "SP"}


def price(rng: random.Random, low: float, high: float) -> float:
    """A shop price in a range: a whole amount less one cent."""
    return round(rng.uniform(low, high)) - 0.01


def product_slots(rng: random.Random, words: list[str], suffixes: list[str], categories: dict[str, str], n: int,
                  pattern: str) -> Iterator[tuple[str, str, str]]:
    """(name, category, code) of n products, categories in turn, names shuffled, codes from ``pattern``
    ('VX-{letters}-{n}': the category's letters, a random four-digit number) unique; lazily, so a caller's
    draws for one product come before the next product's code (the committed corpora depend on that order)."""
    names = [f"{w} {s}" for w in words for s in suffixes]
    rng.shuffle(names)
    cats, used = list(categories), set()
    for i in range(n):
        cat = cats[i % len(cats)]
        code = pattern.format(letters=categories[cat], n=rng.randint(1000, 9999))
        while code in used:
            code = pattern.format(letters=categories[cat], n=rng.randint(1000, 9999))
        used.add(code)
        yield names[i], cat, code


def make_specs(rng: random.Random, category: str) -> dict:
    """Spec values of one product of a category."""
    if category == "power supply":
        watts = rng.choice([450, 550, 650, 750, 850, 1000, 1200, 1300])
        conns = ["24-pin ATX", "8-pin EPS", "PCIe 8-pin", "SATA"] + (["12VHPWR"] if watts >= 750 else [])
        return {"wattage_w": watts, "efficiency": "80 PLUS " + rng.choice(["Bronze", "Silver", "Gold", "Platinum",
                                                                            "Titanium"]),
                "connectors": conns, "dimensions_mm": f"150 x {rng.choice([86, 100])} x {rng.choice([140, 150, 160, 180])}"}
    if category == "ups":
        va = rng.choice([600, 850, 1000, 1350, 1500, 2200, 3000])
        return {"capacity_va": va, "wattage_w": int(va * rng.choice([0.6, 0.66, 0.9]) // 10 * 10),
                "runtime_min": rng.randint(4, 28), "outlets": rng.choice([4, 6, 8, 10]),
                "connectors": ["NEMA 5-15", "USB-A"] if rng.random() < 0.5 else ["IEC C13", "USB-C"],
                "dimensions_mm": f"{rng.choice([100, 130, 170])} x {rng.choice([220, 280, 340])} x {rng.choice([230, 300, 410])}"}
    if category == "cable":
        kind = rng.choice([["USB-C"], ["USB-C", "Lightning"], ["HDMI"], ["DisplayPort"], ["IEC C13", "NEMA 5-15"],
                           ["USB-C", "USB-A"], ["RJ45"]])
        specs = {"connectors": kind, "length_m": rng.choice([0.5, 1, 1.5, 2, 3, 5])}
        if "USB-C" in kind:
            specs["wattage_w"] = rng.choice([60, 100, 240])
        return specs
    if category == "adapter":
        pair = rng.choice([["USB-C", "HDMI"], ["USB-C", "DisplayPort"], ["USB-C", "RJ45"], ["USB-A", "USB-C"],
                           ["DisplayPort", "HDMI"], ["DC barrel", "USB-C"]])
        specs = {"connectors": pair}
        if pair[0] == "USB-C" or pair[-1] == "USB-C":
            specs["wattage_w"] = rng.choice([60, 65, 100])
        return specs
    if category == "charger":
        return {"wattage_w": rng.choice([20, 30, 45, 65, 100, 140]),
                "connectors": rng.choice([["USB-C"], ["USB-C", "USB-A"]]),
                "dimensions_mm": f"{rng.choice([30, 38, 45])} x {rng.choice([30, 38, 52])} x {rng.choice([28, 32, 35])}"}
    return {"outlets": rng.choice([4, 6, 8, 12]), "surge_joules": rng.choice([1080, 2160, 3240, 4320]),
            "length_m": rng.choice([1.5, 2, 3, 4.5]),
            "connectors": ["NEMA 5-15"] + rng.choice([[], ["USB-A"], ["USB-A", "USB-C"]])}


PRICE_RANGE = {"power supply": (59, 299), "ups": (89, 899), "cable": (9, 49), "adapter": (15, 79),
               "charger": (19, 119), "surge protector": (19, 89)}
WARRANTY = {"power supply": [3, 5, 7, 10], "ups": [2, 3], "cable": [1, 2], "adapter": [1, 2],
            "charger": [1, 2, 3], "surge protector": [2, 3, 5]}


def make_catalog(rng: random.Random, n: int) -> list[dict]:
    """n products spread over the categories, each with a unique name and code."""
    products = [{"code": code, "name": name, "category": cat, "specs": make_specs(rng, cat), "compatibility": [],
                 "warranty_years": rng.choice(WARRANTY[cat]), "price_usd": price(rng, *PRICE_RANGE[cat]),
                 "release_year": rng.randint(2018, 2024)}
                for name, cat, code in product_slots(rng, NAME_WORDS, NAME_SUFFIXES, CATEGORIES, n, "VX-{letters}-{n}")]
    cats = list(CATEGORIES)
    by_cat = {c: [p["code"] for p in products if p["category"] == c] for c in cats}
    pairs = {"charger": "cable", "adapter": "cable", "ups": "surge protector", "cable": "charger"}
    for p in products:
        if p["category"] in pairs and by_cat[pairs[p["category"]]]:
            pool = by_cat[pairs[p["category"]]]
            p["compatibility"] = sorted(rng.sample(pool, min(2, len(pool))))
    return products


# How agents state each field (value is already formatted); ticket writers vary units on purpose.
def fact_phrase(rng: random.Random, field: str, v) -> str:
    """One way an agent states a fact (no product name)."""
    num = f"{v:g}" if isinstance(v, float) else str(v)
    options = {
        "wattage_w": lambda: [f"is rated at {num} W", f"delivers {num} watts", f"is a {num}W unit", f"puts out up to {num} W"],
        "capacity_va": lambda: [f"has a capacity of {num} VA", f"is rated at {num}VA"],
        "efficiency": lambda: [f"is certified {v}", f"carries an {v} rating", f"meets {v}"],
        "runtime_min": lambda: [f"runs for about {num} minutes at half load", f"gives roughly {num} min of runtime at half load"],
        "outlets": lambda: [f"has {num} outlets", f"offers {num} AC outlets"],
        "surge_joules": lambda: [f"is rated for {num} joules", f"absorbs surges up to {num} J"],
        "length_m": lambda: [f"is {num} m long", f"has a length of {num} metres", f"measures {num} m"],
        "connectors": lambda: ["has " + (" and ".join(v)) + (" connectors" if len(v) > 1 else " connector"),
                       "uses " + " / ".join(v)],
        "dimensions_mm": lambda: [f"measures {v} mm", f"has dimensions of {v} mm"],
        "warranty_years": lambda: [f"comes with a {num}-year warranty", f"is covered by a {num} year warranty",
                           f"has a warranty of {num} years"],
        "price_usd": lambda: [f"sells for ${v:.2f}", f"is priced at ${v:.2f}", f"costs ${v:.2f}"],
        "release_year": lambda: [f"was released in {num}", f"was launched in {num}"],
        "compatibility": lambda: ["works with the " + " and the ".join(v), "is compatible with " + " and ".join(v)],
    }
    return rng.choice(options[field]())


ASKS = {
    "wattage_w": ["what the wattage is", "how many watts it delivers", "its power rating"],
    "capacity_va": ["what the VA capacity is", "how big the UPS capacity is"],
    "efficiency": ["what efficiency rating it has", "whether it is 80 PLUS certified and which tier"],
    "runtime_min": ["how long it runs on battery", "the runtime at half load"],
    "outlets": ["how many outlets it has", "the number of sockets"],
    "surge_joules": ["the joule rating", "how much surge energy it absorbs"],
    "length_m": ["how long the cable is", "the cord length"],
    "connectors": ["which connectors it has", "what plugs are on it"],
    "dimensions_mm": ["the exact dimensions", "how big it is (need to check it fits)"],
    "warranty_years": ["how long the warranty is", "how many years of warranty I get"],
    "price_usd": ["the current price", "how much it costs"],
    "release_year": ["when it was released", "what year it came out"],
    "compatibility": ["which of your products it works with", "what it is compatible with"],
}
FRAMES = [
    "Hello, I bought the {label} last week and I would like to know {ask}.",
    "hi - quick question about the {label}: {ask}?",
    "Could you tell me {ask} for the {label}? Thanks in advance.",
    "Before I order the {label} I need to know {ask}.",
    "{label} - {ask}??",
    "Good morning. Our office is standardising on the {label}. Please confirm {ask}.",
    "Hey there, I can't find {ask} of the {label} in the manual.",
]
GENERAL = [
    ("Where is my order {order}? It has been a week since I paid.",
     "Your order {order} shipped yesterday and should arrive within three business days."),
    ("I want to return the {label}, it is not what I needed. Order {order}.",
     "We have opened a return for order {order}; you will receive a prepaid label by e-mail."),
    ("Can I change the delivery address on order {order}?",
     "The delivery address on order {order} has been updated."),
    ("Please cancel my order {order}, I ordered the wrong item.",
     "Order {order} is cancelled and the refund will reach your card in five to seven days."),
    ("I was charged twice for order {order}.",
     "We found the duplicate charge for order {order} and have refunded it."),
    ("How do I reset the password of my Voltaris account?",
     "Use the 'Forgot password' link on the sign-in page and follow the e-mail we send you."),
]
SPAM = ["Make $5000 a week from home!!! Visit http://easy-money.example now",
        "Cheap watches best prices click here http://watches.example",
        "We offer SEO services for your website, first page of Google guaranteed.",
        "Congratulations, you have won a gift card. Claim it at http://prize.example"]
OFF_TOPIC = ["Can anyone recommend a good pizza place near your office?",
             "What do you think about the football match last night?",
             "Is it going to rain in Portland tomorrow?",
             "My cat keeps sitting on my keyboard, any tips?"]
FOREIGN = {
    "de": ("Hallo, wie lange ist die Garantie für das {label}? Vielen Dank im Voraus.",
           "Das {label} hat eine Garantie von {years} Jahren."),
    "fr": ("Bonjour, quelle est la durée de la garantie du {label} ? Merci beaucoup.",
           "Le {label} est garanti {years} ans."),
    "es": ("Hola, ¿cuánto dura la garantía del {label}? Muchas gracias.",
           "El {label} tiene una garantía de {years} años."),
    "it": ("Buongiorno, quanto dura la garanzia del {label}? Grazie mille.",
           "Il {label} ha una garanzia di {years} anni."),
    "pt": ("Olá, qual é a duração da garantia do {label}? Muito obrigado.",
           "O {label} tem uma garantia de {years} anos."),
}
COURTESY = ["Let us know if there is anything else we can help with.", "Happy to help!",
            "Thanks for reaching out to Voltaris.", ""]


def luhn_card(rng: random.Random) -> str:
    """A Luhn-valid 16-digit test card number, grouped in fours with spaces or dashes."""
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    sep = rng.choice([" ", "-", ""])
    return sep.join(s[i:i + 4] for i in range(0, 16, 4))


def phone(rng: random.Random) -> str:
    """A phone number in one of several formats."""
    a, b, c = rng.randint(200, 989), rng.randint(200, 989), rng.randint(1000, 9999)
    return rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}",
                       f"+44 20 {rng.randint(7000, 7999)} {rng.randint(1000, 9999)}",
                       f"+49 30 {rng.randint(100000, 999999)}"])


class TicketMaker:
    """Builds tickets one by one and records the planted mess."""

    def __init__(self, rng: random.Random, catalog: list[dict]):
        self.rng, self.catalog = rng, catalog
        self.history: list[dict] = []

    def _pii(self, kind: str, value: str, where: str, gt: dict) -> str:
        gt["pii"].append({"type": kind, "value": value, "field": where})
        return value

    def make(self, rid: str, when: datetime, html: bool) -> tuple[dict, dict]:
        """One raw ticket (customer, message, reply, metadata) and its ground truth."""
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{rng.choice(['mail.example', 'inbox.example', 'post.example'])}"
        agent = rng.choice(AGENTS)
        p = rng.choice(self.catalog)
        gt = {"id": rid, "issues": [], "pii": [], "product": p["code"], "fields": [], "language": "en"}
        rec = {"id": rid, "when": when, "name": f"{first} {last}", "email": email, "agent": agent,
               "product": p["code"] if rng.random() < 0.7 else "", "subject": ""}
        facts = dict(p["specs"], warranty_years=p["warranty_years"], price_usd=p["price_usd"],
                     release_year=p["release_year"])
        if p["compatibility"]:
            facts["compatibility"] = p["compatibility"]
        label = rng.choice([f"{p['name']} ({p['code']})", p["code"], f"{p['name']} {p['code']}"])
        roll = rng.random()
        order = f"#{rng.randint(100000, 999999)}" if rng.random() < 0.5 else f"VH-{rng.randint(2019, 2024)}-{rng.randint(10000, 99999)}"
        if roll < RATES["spam"]:
            gt["issues"].append("spam")
            msg, reply, gt["product"] = rng.choice(SPAM), "", None
        elif roll < RATES["spam"] + RATES["off_topic"]:
            gt["issues"].append("off_topic")
            msg, reply, gt["product"] = rng.choice(OFF_TOPIC), "This inbox is for Voltaris product support.", None
        elif roll < RATES["spam"] + RATES["off_topic"] + RATES["non_english"]:
            lang = rng.choice(sorted(FOREIGN))
            gt["issues"].append("non_english")
            gt["language"], gt["fields"] = lang, ["warranty_years"]
            q, a = FOREIGN[lang]
            msg, reply = q.format(label=label), a.format(label=f"{p['name']} ({p['code']})", years=p["warranty_years"])
        elif roll < RATES["spam"] + RATES["off_topic"] + RATES["non_english"] + GENERAL_SHARE:
            gt["issues"].append("general")
            q, a = rng.choice(GENERAL)
            if "{order}" in q + a:
                self._pii("ORDER", order, "both", gt)
            msg, reply = q.format(order=order, label=label), a.format(order=order)
        else:
            fields = rng.sample(sorted(facts), 2 if rng.random() < 0.2 else 1)
            gt["fields"] = fields
            ask = " and ".join(rng.choice(ASKS[f]) for f in fields)
            msg = rng.choice(FRAMES).format(label=label, ask=ask)
            stated = {f: facts[f] for f in fields}
            if rng.random() < RATES["contradiction"]:
                f = next((f for f in fields if isinstance(facts[f], (int, float)) and f != "release_year"), None)
                if f is not None:
                    wrong = self._outdated(f, facts[f])
                    stated[f] = wrong
                    gt["issues"].append("contradiction")
                    gt["contradiction"] = {"field": f, "stated": wrong, "catalog": facts[f]}
            subject = p["name"] if rng.random() < 0.5 else p["code"]
            facts_text = " and ".join(fact_phrase(rng, f, stated[f]) for f in fields)
            reply = f"The {p['name']} ({p['code']}) {facts_text}." if rng.random() < 0.85 else \
                f"It {facts_text}."
            if rng.random() < RATES["invented_successor"]:
                invented = f"VX-{CATEGORIES[p['category']]}-{rng.randint(1000, 9999)}"
                if all(invented != q["code"] for q in self.catalog):
                    reply += f" It has since been replaced by the {invented}."
                    gt["issues"].append("contradiction")
                    gt["contradiction"] = {"field": "model code", "stated": invented, "catalog": None}
            rec["subject"] = f"Question about {subject}"
            if rng.random() < RATES["order"]:
                msg += f" My order number is {self._pii('ORDER', order, 'message', gt)}."
        if not rec["subject"]:
            rec["subject"] = rng.choice(["Support request", "Question", "Help", ""])
        msg = self._customer_extras(msg, first, last, gt)
        reply = self._agent_wrap(reply, first, agent, gt) if reply else reply
        if reply and rng.random() < RATES["empty_reply"]:
            reply = rng.choice(["", " ", "\n"])
            gt["issues"].append("empty_reply")
        elif reply and rng.random() < RATES["truncated_reply"]:
            greet, body = reply.split("\n\n")[:2]
            reply = greet + "\n\n" + body[: max(12, int(len(body) * rng.uniform(0.3, 0.6)))].rstrip(" .,!?")
            gt["issues"].append("truncated_reply")
        gt["pii"] = [x for x in gt["pii"] if x["value"] in msg or x["value"] in reply]
        if html:
            msg, reply = self._html(msg), self._html(reply) if reply.strip() else reply
            gt["issues"].append("html")
        rec["message"], rec["reply"] = msg, reply
        for x in gt["pii"]:
            x["field"] = "message" if x["value"] in msg and x["value"] not in reply else (
                "reply" if x["value"] not in msg else "both")
        return rec, gt

    def _outdated(self, field: str, value):
        """A plausible but wrong (outdated) value for a numeric field."""
        rng = self.rng
        if field == "price_usd":
            return round(value + rng.choice([-20, -10, 10, 15, 30]), 2) if value > 35 else round(value + 5, 2)
        if field == "warranty_years":
            return value - 1 if value > 1 else value + 1
        if field == "length_m":
            return value + 1 if value < 3 else value - 1
        step = {"wattage_w": 50, "capacity_va": 150, "runtime_min": 3, "outlets": 2, "surge_joules": 540}.get(field, 10)
        return value + step if rng.random() < 0.5 or value <= step else value - step

    def _customer_extras(self, msg: str, first: str, last: str, gt: dict) -> str:
        """Add PII, a signature and a quoted earlier reply to a customer's message."""
        rng = self.rng
        extras = []
        if rng.random() < RATES["phone"]:
            extras.append(f"You can call me on {self._pii('PHONE', phone(rng), 'message', gt)}.")
        if rng.random() < RATES["email"]:
            alt = f"{first[0].lower()}{last.lower()}@{rng.choice(['work.example', 'corp.example'])}"
            extras.append(f"Please reply to {self._pii('EMAIL', alt, 'message', gt)} instead.")
        if rng.random() < RATES["card"]:
            extras.append(f"I paid with card {self._pii('CARD', luhn_card(rng), 'message', gt)}.")
        if rng.random() < RATES["address"]:
            addr = f"{rng.randint(3, 9899)} {rng.choice(STREETS)}"
            extras.append(f"Ship it to {self._pii('ADDRESS', addr, 'message', gt)}, {rng.choice(CITIES)}.")
        if extras:
            msg = msg + " " + " ".join(extras)
        if rng.random() < 0.15:
            msg = f"My name is {self._pii('NAME', f'{first} {last}', 'message', gt)}. " + msg
        if rng.random() < RATES["customer_signature"]:
            sig = rng.choice([f"\n\nThanks,\n{first} {last}", f"\n\nRegards,\n{first} {last}\nSent from my phone",
                              f"\n\n--\n{first} {last}\n{phone(rng)}"])
            for line in sig.split("\n"):
                if line == f"{first} {last}":
                    self._pii("NAME", line, "message", gt)
                elif line and line[0] in "+(0123456789":
                    self._pii("PHONE", line, "message", gt)
            msg += sig
            gt["issues"].append("customer_signature")
        if rng.random() < RATES["quoted_reply"]:
            prev = rng.choice(["Thanks for your message, we are looking into it.",
                               "Could you send us a photo of the label on the unit?"])
            msg += f"\n\nOn {rng.randint(1, 28)} Mar 2023, Voltaris Support <support@voltaris.example> wrote:\n> {prev}\n> Best, the Voltaris team"
            self._pii("EMAIL", "support@voltaris.example", "message", gt)
            gt["issues"].append("quoted_reply")
        return msg

    def _agent_wrap(self, reply: str, first: str, agent: str, gt: dict) -> str:
        """Greeting, courtesy line and signature around an agent's answer."""
        rng = self.rng
        greet = rng.choice([f"Hi {first},", f"Hello {first},", f"Dear {first},", "Hello,", "Hi there,"])
        if first in greet:
            self._pii("NAME", first, "reply", gt)
        courtesy = rng.choice(COURTESY)
        body = reply + (" " + courtesy if courtesy else "")
        sign = rng.choice([f"Best regards,\n{agent}\nVoltaris Support", f"Kind regards,\n{agent} | Voltaris Support",
                           f"Cheers,\n{agent}\n--\nVoltaris Hardware Support\nsupport@voltaris.example | +1 800 555 0199"])
        if "support@" in sign:
            self._pii("EMAIL", "support@voltaris.example", "reply", gt)
            self._pii("PHONE", "+1 800 555 0199", "reply", gt)
        return f"{greet}\n\n{body}\n\n{sign}"

    def _html(self, text: str) -> str:
        """Wrap text in the markup e-mail exports carry."""
        paras = [p.replace("&", "&amp;").replace("\n", "<br>") for p in text.split("\n\n")]
        return self.rng.choice(['<div dir="ltr">', "<html><body>", ""]) + "".join(f"<p>{p}</p>" for p in paras) + \
            self.rng.choice(["</div>", "</body></html>", "&nbsp;"])

    def near_duplicate(self, rec: dict) -> dict:
        """A copy of a record with small edits (case, punctuation, a typo, an extra word)."""
        rng = self.rng
        msg = rec["message"]
        edit = rng.choice(["case", "punct", "typo", "extra"])
        if edit == "case":
            msg = msg[0].swapcase() + msg[1:] if msg else msg
            msg = msg.replace("Hello", "hello", 1).replace("Could", "could", 1)
        elif edit == "punct":
            msg = msg.replace(".", "!", 1).replace("?", "??", 1)
        elif edit == "typo":
            words = msg.split(" ")
            i = rng.randrange(len(words))
            w = words[i]
            if len(w) > 4 and w.isalpha():
                words[i] = w[:2] + w[3] + w[2] + w[4:]
            msg = " ".join(words)
        else:
            msg = msg.replace(" I ", " I really ", 1) if " I " in msg else msg + " Thanks!"
        return dict(rec, message=msg)


def csv_bytes(rows: list[list[str]]) -> bytes:
    """One CSV row as UTF-8 bytes."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def make_tickets(rng: random.Random, catalog: list[dict], n: int, out: Path) -> dict:
    """Write the CSV and JSONL exports; return ground truth for every record and the malformed ones."""
    maker = TicketMaker(rng, catalog)
    start = datetime(2023, 1, 2, 8, 0)
    n_csv = n * 11 // 20
    records, truth = [], {}
    made = []  # (rec, gt) of clean originals, for duplicates
    for i in range(n):
        in_csv = i < n_csv
        rid = f"T-{100000 + i}" if in_csv else f"C-{500000 + i}"
        when = (start if in_csv else datetime(2024, 1, 3, 8, 0)) + \
            timedelta(minutes=int((i if in_csv else i - n_csv) * 97 + rng.randint(0, 60)))
        if made and rng.random() < RATES["exact_duplicate"]:
            src, sgt = rng.choice(made)
            rec = dict(src, id=rid if rng.random() < 0.6 else src["id"], when=when)
            gt = dict(sgt, id=rec["id"], issues=sgt["issues"] + ["exact_duplicate"], duplicate_of=src["id"],
                      pii=[dict(x) for x in sgt["pii"]])
        elif made and rng.random() < RATES["near_duplicate"]:
            src, sgt = rng.choice(made)
            rec = maker.near_duplicate(dict(src, id=rid, when=when))
            gt = dict(sgt, id=rid, issues=sgt["issues"] + ["near_duplicate"], near_duplicate_of=src["id"],
                      pii=[dict(x) for x in sgt["pii"] if x["value"] in rec["message"] + rec["reply"]])
        else:
            rec, gt = maker.make(rid, when, html=in_csv and rng.random() < RATES["html"])
            made.append((rec, gt))
        rec["csv"] = in_csv
        records.append(rec)
        truth.setdefault(rec["id"], []).append(gt)
    # Write CSV
    header = ["ticket_id", "created_at", "channel", "customer_name", "customer_email", "product", "subject",
              "customer_message", "agent_name", "agent_reply"]
    malformed = []
    csv_path, jsonl_path = out / "tickets_2023.csv", out / "chats_2024.jsonl"
    data, line = bytearray(csv_bytes([header])), 2
    for rec in (r for r in records if r["csv"]):
        row = [rec["id"], rec["when"].strftime("%Y-%m-%d %H:%M"), rng.choice(["email", "web form"]), rec["name"],
               rec["email"], rec["product"], rec["subject"], rec["message"], rec["agent"], rec["reply"]]
        chunk, reason = csv_bytes([row]), None
        if rng.random() < MALFORMED_RATE:
            kind = rng.choice(["encoding", "columns", "missing"])
            if kind == "encoding":
                row[3] = rec["name"].replace("o", "ö", 1) if "o" in rec["name"] else rec["name"] + " Müller"
                chunk, reason = csv_bytes([row]).decode("utf-8").encode("latin-1", "replace"), "bad encoding"
            elif kind == "columns":
                chunk, reason = csv_bytes([row[:6]]), "wrong number of columns"
            else:
                row[0] = ""
                chunk, reason = csv_bytes([row]), "missing ticket_id"
        if reason:
            malformed.append({"file": csv_path.name, "line": line, "reason": reason, "id": rec["id"]})
        data += chunk
        line += chunk.count(b"\n")
    csv_path.write_bytes(bytes(data))
    # Write JSONL
    data, line = bytearray(), 1
    for rec in (r for r in records if not r["csv"]):
        turns = [{"from": "customer", "text": rec["message"]}]
        if rng.random() < 0.3:
            turns.insert(0, {"from": "agent", "name": rec["agent"], "text": "Hi! How can I help you today?"})
        if rec["reply"]:
            turns.append({"from": "agent", "name": rec["agent"], "text": rec["reply"]})
        obj = {"chat_id": rec["id"], "started_at": rec["when"].strftime("%Y-%m-%dT%H:%M:00Z"),
               "customer": {"name": rec["name"], "email": rec["email"]}, "product": rec["product"] or None,
               "transcript": turns}
        text, reason = json.dumps(obj, ensure_ascii=False), None
        if rng.random() < MALFORMED_RATE:
            kind = rng.choice(["broken", "missing", "encoding"])
            if kind == "broken":
                text, reason = text[: len(text) // 2], "broken JSON"
            elif kind == "missing":
                del obj["transcript"]
                text, reason = json.dumps(obj, ensure_ascii=False), "missing transcript"
            else:
                reason = "bad encoding"
        chunk = (text + "\n").encode("latin-1", "replace") if reason == "bad encoding" and not text.isascii() \
            else (text + "\n").encode("utf-8")
        if reason == "bad encoding" and text.isascii():
            chunk = (text.replace(rec["name"], rec["name"] + " Müller") + "\n").encode("latin-1", "replace")
        if reason:
            malformed.append({"file": jsonl_path.name, "line": line, "reason": reason, "id": rec["id"]})
        data += chunk
        line += 1
    jsonl_path.write_bytes(bytes(data))
    return {"records": truth, "malformed": malformed}


def make_docs(catalog: list[dict], out: Path) -> None:
    """One Markdown page per category, and the internal FAQ."""
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for cat in CATEGORIES:
        lines = [f"# Voltaris {cat} line-up", "", "Internal product documentation. Specs are authoritative.", ""]
        for p in (p for p in catalog if p["category"] == cat):
            lines += [f"## {p['name']} ({p['code']})", "", "| Spec | Value |", "|---|---|"]
            for k, v in p["specs"].items():
                lines.append(f"| {k} | {', '.join(v) if isinstance(v, list) else v} |")
            lines += [f"| warranty_years | {p['warranty_years']} |", f"| price_usd | {p['price_usd']:.2f} |",
                      f"| release_year | {p['release_year']} |"]
            if p["compatibility"]:
                lines.append(f"| compatibility | {', '.join(p['compatibility'])} |")
            lines.append("")
        (docs / f"{cat.replace(' ', '_')}.md").write_text("\n".join(lines), encoding="utf-8")
    faq = ["# Voltaris Hardware internal FAQ", "",
           "## How long is the warranty?", "It depends on the product: see `warranty_years` in the catalog. "
           "Power supplies carry the longest warranties.", "",
           "## How do customers start a return?", "Within 30 days of delivery, from the order page; we e-mail a "
           "prepaid label.", "",
           "## What does 80 PLUS mean?", "An efficiency certification for power supplies; the tiers are "
           "Bronze, Silver, Gold, Platinum and Titanium.", "",
           "## What is the difference between VA and W on a UPS?", "VA is apparent power; the watt rating is the "
           "real power the UPS can deliver and is always lower.", ""]
    (out / "faq.md").write_text("\n".join(faq), encoding="utf-8")


def make_failures(rng: random.Random, catalog: list[dict], out: Path, n: int = 40) -> None:
    """Questions a general model answered wrongly: question, wrong answer, correct answer."""
    rows = []
    for p in rng.sample(catalog, min(n, len(catalog))):
        f = rng.choice([k for k in ("wattage_w", "capacity_va", "length_m", "outlets") if k in p["specs"]]
                       or ["warranty_years"])
        truth = p["specs"].get(f, p.get(f))
        unit = {"wattage_w": " W", "capacity_va": " VA", "length_m": " m", "outlets": " outlets",
                "warranty_years": " years of warranty"}[f]
        wrong = truth * 2 if isinstance(truth, int) else truth + 1
        invented = f"VX-{p['code'][3:5]}-{rng.randint(1000, 9999)}"
        rows.append({"question": f"What is the {f.split('_')[0]} of the {p['name']}?", "product": p["code"],
                     "field": f,
                     "wrong_answer": rng.choice([f"The {p['name']} offers {wrong:g}{unit}.",
                                                 f"The {p['name']} ({invented}) offers {wrong:g}{unit}."]),
                     "correct_answer": f"The {p['name']} ({p['code']}) offers {truth:g}{unit}."})
    (out / "model_failures.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def make_bitext(rng: random.Random, source: Path, out: Path, per_intent: int = 60) -> None:
    """A per-intent sample of the Bitext utterances in ``source``, with the licence found beside it and the
    attribution; a source with at most ``per_intent`` utterances per intent is already a sample and is kept as is."""
    out.mkdir(parents=True, exist_ok=True)
    with open(source, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_intent: dict[str, list[dict]] = {}
    for r in rows:
        by_intent.setdefault(r["intent"], []).append(r)
    if all(len(v) <= per_intent for v in by_intent.values()):
        sample = rows  # already a sample (the committed one): it reproduces itself
    else:
        sample = [r for intent in sorted(by_intent)
                  for r in rng.sample(by_intent[intent], min(per_intent, len(by_intent[intent])))]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["flags", "utterance", "category", "intent"], lineterminator="\n")
    w.writeheader()
    w.writerows(sample)
    (out / "intents_sample.csv").write_text(buf.getvalue(), encoding="utf-8")
    if (source.parent / "LICENSE.txt").resolve() != (out / "LICENSE.txt").resolve():
        shutil.copyfile(source.parent / "LICENSE.txt", out / "LICENSE.txt")
    (out / "ATTRIBUTION.md").write_text(
        "Utterances and intent labels: Bitext customer-support intent sample (Bitext Innovations), "
        "licensed under the Community Data License Agreement - Sharing 1.0 (LICENSE.txt). "
        f"This file is a sample of {per_intent} utterances per intent, drawn with a fixed seed by "
        "data_samples/generate.py from bitext_intents_20k.csv.\n", encoding="utf-8")


def generate(out: Path, products: int, tickets: int, seed: int, bitext: Path | None,
             bitext_source: Path = BITEXT_SAMPLE) -> dict:
    """Write the whole corpus into ``out`` (and the Bitext sample into ``bitext``); return the ground truth."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    catalog = make_catalog(rng, products)
    (out / "catalog.json").write_text(json.dumps({"vendor": "Voltaris Hardware", "products": catalog},
                                                 indent=1) + "\n", encoding="utf-8")
    if SCHEMA.resolve() != (out / SCHEMA.name).resolve():
        shutil.copyfile(SCHEMA, out / SCHEMA.name)
    make_docs(catalog, out)
    make_failures(rng, catalog, out)
    truth = make_tickets(rng, catalog, tickets, out)
    counts: dict[str, int] = {}
    for gts in truth["records"].values():
        for gt in gts:
            for issue in gt["issues"]:
                counts[issue] = counts.get(issue, 0) + 1
            for x in gt["pii"]:
                counts["pii_" + x["type"]] = counts.get("pii_" + x["type"], 0) + 1
    truth.update(seed=seed, products=products, tickets=tickets, rates=RATES, malformed_rate=MALFORMED_RATE,
                 counts=dict(sorted(counts.items())), malformed_count=len(truth["malformed"]))
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=None, sort_keys=True, separators=(",", ":"))
                                           + "\n", encoding="utf-8")
    if bitext is not None:
        make_bitext(random.Random(seed + 1), bitext_source, bitext)
    return truth


def main() -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "voltaris")
    ap.add_argument("--products", type=int, default=72)
    ap.add_argument("--tickets", type=int, default=3600)
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--bitext-out", type=Path, default=HERE / "bitext")
    ap.add_argument("--bitext-source", type=Path, default=BITEXT_SAMPLE,
                    help="Bitext CSV to sample from, LICENSE.txt beside it (default: the committed sample)")
    ap.add_argument("--no-bitext", action="store_true", help="do not (re)write the Bitext sample")
    args = ap.parse_args()
    truth = generate(args.out, args.products, args.tickets, args.seed, None if args.no_bitext else args.bitext_out,
                     args.bitext_source)
    print(f"wrote {args.out}: {args.products} products, {args.tickets} tickets, "
          f"{truth['malformed_count']} malformed; planted: {truth['counts']}")


if __name__ == "__main__":
    main()
