"""Generate the Hearthline Kitchen sample corpus: a second domain, with its own fields and units, for notebook 01.

Deterministic: the same arguments write the same bytes. The committed corpus was made with

    python data_samples/generate_hearthline.py          # -> data_samples/hearthline/

Hearthline sells kitchen appliances in Europe (kettles, blenders, coffee machines, microwaves, dishwashers), so
nothing of the Voltaris catalog carries over: capacity in litres, power in W or kW, noise in dB(A), pump pressure
in bar, place settings, water per cycle, an energy class and colours from vocabularies, dimensions in cm with
decimals, prices in euros ("€129.99", "129.99 EUR"). Its field declarations, ``catalog.schema.json``, are written
by hand, as a vendor would, and copied into the corpus.

Like a real export it comes with **no ground truth**: notebook 01 shows samples of what curation redacted and
removed for a person to check instead of scoring them against a list of what was planted. What it writes:

- ``catalog.json``       24 products over five categories.
- ``helpdesk_2024.csv``  e-mail and web-form tickets as a spreadsheet saves them: semicolon-separated, UTF-8 with
                         a byte-order mark, CRLF line ends, columns in another order plus a ``priority`` column,
                         HTML from the web form, multi-line quoted fields.
- ``chats_2025.jsonl``   chat transcripts (the documented chat shape), one chat exported twice under its id.
- ``returns_2023.tsv``   an older tab-separated export in Windows-1252 (the euro sign is byte 0x80).
- ``export_notes.txt``   the export tool's note (not a ticket export: curation lists it as skipped).

The mess: European PII (phone numbers of six countries, IBANs for refunds, street addresses of five countries,
order numbers, accented names in greetings and sign-offs), signatures and quoted replies, exact and near
duplicates, empty and truncated replies, spam, German, French and Dutch messages, replies that state an outdated
value or name a successor model that does not exist, and a few malformed records (broken JSON, a missing
transcript, a row without its id, a row with too few columns).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

from stdnum import iban as stdnum_iban

from generate import luhn_card, price, product_slots

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "hearthline" / "catalog.schema.json"
"""The vendor's field declarations, written by hand and copied into every corpus this generator writes."""
VENDOR = "Hearthline Kitchen"

RATES = {
    "html": 0.25,                # web-form tickets of the CSV export only
    "customer_signature": 0.3, "quoted_reply": 0.1,
    "email": 0.2, "phone": 0.25, "iban": 0.06, "card": 0.02, "address": 0.1, "order": 0.3, "name_intro": 0.1,
    "exact_duplicate": 0.04, "near_duplicate": 0.05,
    "empty_reply": 0.03, "truncated_reply": 0.03,
    "spam": 0.03, "non_english": 0.06,
    "contradiction": 0.1,        # the agent states an outdated value
    "invented_successor": 0.02,  # the agent names a successor model that does not exist
}
GENERAL_SHARE = 0.2              # tickets about deliveries, refunds and accounts rather than a product fact

CATEGORIES = {"kettle": "KE", "blender": "BL", "coffee machine": "CM", "microwave": "MW", "dishwasher": "DW"}
NAME_WORDS = ["Quince", "Fennel", "Sorrel", "Caraway", "Bramble", "Nettle", "Damson", "Medlar", "Rowan", "Tansy",
              "Chervil", "Lovage", "Borage", "Sloe", "Wren", "Linnet", "Hollis", "Marrow", "Thistle", "Juniper",
              "Aniseed", "Burdock", "Clover", "Dill", "Elder", "Hazel"]
NAME_SUFFIXES = ["Classic", "Compact", "Studio", "Pro", "Duo", "Plus"]
COLOURS = ["white", "black", "stainless steel", "cream", "red", "sage green", "graphite", "copper"]
FIRST = ["Zoë", "Jürgen", "Søren", "Amélie", "Luca", "Inès", "Maarten", "Sofía", "Björn", "Chiara", "Théo", "Aoife",
         "Mateusz", "Elena", "Joost", "Henrik", "Clémence", "Pablo", "Greta", "Niamh"]
LAST = ["Lefèvre", "Weiß", "Mikkelsen", "van Dijk", "Rossi", "García", "Novák", "O'Brien", "Schäfer", "Dubois",
        "Jansen", "Lindqvist", "Moreno", "Bianchi", "Fischer", "de Vries", "Martín", "Nyström"]
AGENTS = ["Marit", "Jules", "Anouk", "Tobias", "Carmen"]
ADDRESSES = ["Lindenstraße {n}, 10115 Berlin", "Keizersgracht {n}, 1015 CJ Amsterdam", "{n} rue des Lilas, 75011 Paris",
             "{n} Baker Street, London NW1 6XE", "Calle Mayor {n}, 28013 Madrid"]


def _colours(rng: random.Random) -> list[str]:
    return sorted(rng.sample(COLOURS, rng.choice([1, 2, 2, 3])), key=COLOURS.index)


def make_specs(rng: random.Random, category: str) -> dict:
    """Spec values of one product of a category."""
    if category == "kettle":
        return {"capacity_l": rng.choice([1.0, 1.2, 1.5, 1.7]), "power_w": rng.choice([2200, 2400, 3000]),
                "colours": _colours(rng)}
    if category == "blender":
        return {"capacity_l": rng.choice([0.6, 1.2, 1.5, 2.0]), "power_w": rng.choice([500, 800, 1000, 1200, 1500]),
                "speeds": rng.choice([2, 3, 5, 8, 10]), "noise_db": rng.randint(82, 95), "colours": _colours(rng)}
    if category == "coffee machine":
        return {"pressure_bar": rng.choice([15, 19]), "capacity_l": rng.choice([1.2, 1.5, 1.8, 2.2]),
                "power_w": rng.choice([1200, 1350, 1450]), "colours": _colours(rng),
                "dimensions_cm": f"{rng.choice([18, 24, 28.5])} x {rng.choice([31, 33.5, 38])} x {rng.choice([40, 43])}"}
    if category == "microwave":
        return {"capacity_l": rng.choice([20, 23, 25, 28, 32]), "power_w": rng.choice([700, 800, 900, 1000]),
                "colours": _colours(rng),
                "dimensions_cm": f"{rng.choice([44, 48.5, 52])} x {rng.choice([26, 28, 30.5])} x {rng.choice([34, 36, 41])}"}
    slim = rng.random() < 0.4
    return {"place_settings": rng.choice([9, 10]) if slim else rng.choice([12, 13, 14, 15]),
            "noise_db": rng.randint(40, 49), "energy_class": "Class " + rng.choice("BCDE"),
            "water_l": rng.choice([8.5, 9.5, 10.5, 11.0]),
            "dimensions_cm": f"{44.8 if slim else 59.8} x {rng.choice([81.5, 84.5])} x {rng.choice([55, 60])}"}


PRICE_RANGE = {"kettle": (29, 119), "blender": (49, 349), "coffee machine": (199, 899), "microwave": (89, 329),
               "dishwasher": (399, 1099)}
WARRANTY = {"kettle": [2, 3], "blender": [2, 3, 5], "coffee machine": [2, 3], "microwave": [2, 3],
            "dishwasher": [2, 5]}


def make_catalog(rng: random.Random, n: int) -> list[dict]:
    """n products spread over the categories, each with a unique name and code ('KE-2041-EU')."""
    return [{"code": code, "name": name, "category": cat, "specs": make_specs(rng, cat),
             "warranty_years": rng.choice(WARRANTY[cat]), "price_eur": price(rng, *PRICE_RANGE[cat]),
             "release_year": rng.randint(2019, 2025)}
            for name, cat, code in product_slots(rng, NAME_WORDS, NAME_SUFFIXES, CATEGORIES, n, "{letters}-{n}-EU")]


def _ascii(name: str) -> str:
    """A name as the local part of an e-mail address writes it: 'Søren O'Brien' -> 'soren-obrien'."""
    name = unicodedata.normalize("NFKD", name.replace("ß", "ss").replace("ø", "o").replace("Ø", "O"))
    return "".join(c for c in name if c.isascii() and c not in "'").lower().replace(" ", "-")


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def fact_phrase(rng: random.Random, field: str, v) -> str:
    """One way an agent states a fact (no product name); units vary as they do in real replies."""
    num = _num(v)
    options = {
        "capacity_l": lambda: [f"holds {num} litres", f"has a capacity of {num} L", f"takes up to {num} l"],
        "power_w": lambda: [f"is rated at {num} W", f"draws {num} watts", f"is a {num}W appliance"]
        + ([f"runs at {v / 1000:g} kW"] if v >= 2000 else []),
        "noise_db": lambda: [f"runs at {num} dB", f"has a noise level of {num} dB(A)", f"operates at just {num} dBA"],
        "pressure_bar": lambda: [f"builds {num} bar of pump pressure", f"has a {num}-bar pump"],
        "speeds": lambda: [f"has {num} speed settings", f"offers {num} speeds"],
        "place_settings": lambda: [f"takes {num} place settings", f"has room for {num} place settings"],
        "water_l": lambda: [f"uses {num} litres of water per cycle", f"needs only {num} L of water per cycle"],
        "energy_class": lambda: [f"is in energy class {v[-1]}", f"carries the energy label {v}"],
        "colours": lambda: ["comes in " + " and ".join(v), "is available in " + " and ".join(v)],
        "dimensions_cm": lambda: [f"measures {v} cm", f"is {v} cm (W x H x D)"],
        "warranty_years": lambda: [f"comes with a {num}-year warranty", f"is covered by a {num} year guarantee"],
        "price_eur": lambda: [f"costs €{v:.2f}", f"is priced at {v:.2f} EUR", f"sells for {v:.2f} euros"],
        "release_year": lambda: [f"was released in {num}", f"came out in {num}"],
    }
    return rng.choice(options[field]())


ASKS = {
    "capacity_l": ["how much it holds", "the capacity in litres"],
    "power_w": ["how many watts it draws", "its power rating"],
    "noise_db": ["how loud it is", "the noise level in dB"],
    "pressure_bar": ["the pump pressure", "how many bar the pump makes"],
    "speeds": ["how many speed settings it has", "the number of speeds"],
    "place_settings": ["how many place settings fit", "the loading capacity"],
    "water_l": ["how much water it uses per cycle", "the water consumption"],
    "energy_class": ["which energy class it is", "the energy label"],
    "colours": ["which colours it comes in", "the available finishes"],
    "dimensions_cm": ["the exact dimensions (it has to fit a niche)", "how big it is"],
    "warranty_years": ["how long the warranty is", "how many years of guarantee I get"],
    "price_eur": ["the current price", "how much it costs in euros"],
    "release_year": ["when it came out", "the release year"],
}
FRAMES = [
    "Hello, I bought the {label} last month and would like to know {ask}.",
    "hi, quick one about the {label}: {ask}?",
    "Could you tell me {ask} for the {label}? Thank you.",
    "Before I order the {label} I need to know {ask}.",
    "{label} - {ask}??",
    "Good afternoon. We are fitting out a café kitchen with the {label}. Please confirm {ask}.",
]
GENERAL = [
    ("Where is my order {order}? The tracking page has not changed for days.",
     "Your order {order} left our warehouse yesterday and should arrive within three working days."),
    ("I want to return the {label}, it is too big for my kitchen. Order {order}.",
     "We have opened a return for order {order}; a prepaid label is on its way by e-mail."),
    ("Please refund order {order} to my account {iban}, the card I paid with has expired.",
     "The refund for order {order} has been sent to the account you gave us."),
    ("How do I descale the {label}?",
     "Fill it with a descaling solution, run one cycle, then rinse twice with clean water."),
    ("I was charged twice for order {order}.",
     "We found the double charge on order {order} and have refunded one of them."),
]
SPAM = ["Earn €3000 a week from home!!! Visit http://quick-cash.example now",
        "Best replica watches, click here http://watches.example",
        "We offer SEO services for your shop, first page of Google guaranteed."]
FOREIGN = {
    "de": ("Hallo, wie lange ist die Garantie für den {label}? Vielen Dank im Voraus.",
           "Der {label} hat eine Garantie von {years} Jahren."),
    "fr": ("Bonjour, quelle est la durée de la garantie du {label} ? Merci beaucoup.",
           "Le {label} est garanti {years} ans."),
    "nl": ("Hallo, hoe lang is de garantie op de {label}? Alvast bedankt.",
           "De {label} heeft {years} jaar garantie."),
}
COURTESY = ["Let us know if there is anything else we can help with.", "Happy to help!",
            "Thank you for contacting Hearthline.", ""]


def phone(rng: random.Random) -> str:
    """A phone number in the format of one of six European countries, international or national."""
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    return rng.choice([f"+49 30 {rng.randint(2, 9)}{d(7)}", f"030 {rng.randint(2, 9)}{d(6)}",
                       f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}", f"06 {d(2)} {d(2)} {d(2)} {d(2)}",
                       f"+31 20 {rng.randint(2, 9)}{d(2)} {d(4)}", f"+44 20 7{d(3)} {d(4)}",
                       f"+34 91{rng.randint(2, 9)} {d(3)} {d(3)}", f"+39 02 {d(4)} {d(4)}"])


def iban(rng: random.Random) -> str:
    """A valid German, Dutch or Irish IBAN (ISO 13616 check digits), printed in groups of four."""
    country, bban = rng.choice([("DE", "".join(str(rng.randint(0, 9)) for _ in range(18))),
                                ("NL", rng.choice(["ABNA", "INGB", "RABO"]) + "".join(str(rng.randint(0, 9))
                                                                                      for _ in range(10))),
                                ("IE", "AIBK" + "".join(str(rng.randint(0, 9)) for _ in range(14)))])
    number = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


class TicketMaker:
    """Builds one raw ticket at a time: question, reply, metadata and the mess around them."""

    def __init__(self, rng: random.Random, catalog: list[dict]):
        self.rng, self.catalog = rng, catalog

    def make(self, html: bool) -> dict:
        """One raw ticket: customer, product hint, message and reply."""
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{_ascii(first)}.{_ascii(last)}@{rng.choice(['mail.example', 'post.example'])}"
        p = rng.choice(self.catalog)
        facts = dict(p["specs"], warranty_years=p["warranty_years"], price_eur=p["price_eur"],
                     release_year=p["release_year"])
        label = rng.choice([f"{p['name']} ({p['code']})", p["code"], f"{p['name']} {p['code']}", p["name"]])
        hint = rng.choice([p["code"], p["code"], p["name"], ""])
        order = rng.choice([f"HL-{rng.randint(2022, 2025)}-{rng.randint(10000, 99999)}",
                            f"no. {rng.randint(4500000000, 4599999999)}", f"#{rng.randint(100000, 999999)}"])
        roll = rng.random()
        if roll < RATES["spam"]:
            msg, reply, hint = rng.choice(SPAM), "", ""
        elif roll < RATES["spam"] + RATES["non_english"]:
            q, a = FOREIGN[rng.choice(sorted(FOREIGN))]
            msg, reply = q.format(label=label), a.format(label=f"{p['name']} ({p['code']})", years=p["warranty_years"])
        elif roll < RATES["spam"] + RATES["non_english"] + GENERAL_SHARE:
            q, a = rng.choice(GENERAL)
            msg, reply = q.format(order=order, label=label, iban=iban(rng)), a.format(order=order)
        else:
            msg, reply = self._product_question(p, facts, label)
            if rng.random() < RATES["order"]:
                msg += f" My order is {order}."
        msg = self._customer_extras(msg, first, last)
        reply = self._agent_wrap(reply, first) if reply else reply
        if reply and rng.random() < RATES["empty_reply"]:
            reply = rng.choice(["", " ", "\n"])
        elif reply and rng.random() < RATES["truncated_reply"]:
            greet, body = reply.split("\n\n")[:2]
            reply = greet + "\n\n" + body[: max(12, int(len(body) * rng.uniform(0.3, 0.6)))].rstrip(" .,!?")
        if html:
            msg = self._html(msg)
        return {"name": f"{first} {last}", "email": email, "product": hint, "message": msg, "reply": reply,
                "agent": rng.choice(AGENTS), "subject": f"Question about {p['name']}"}

    def _product_question(self, p: dict, facts: dict, label: str) -> tuple[str, str]:
        """A customer question about one or two facts and the agent's answer (sometimes outdated)."""
        rng = self.rng
        fields = rng.sample(sorted(facts), 2 if rng.random() < 0.2 else 1)
        msg = rng.choice(FRAMES).format(label=label, ask=" and ".join(rng.choice(ASKS[f]) for f in fields))
        stated = {f: facts[f] for f in fields}
        if rng.random() < RATES["contradiction"]:
            f = next((f for f in fields if isinstance(facts[f], (int, float)) and f != "release_year"), None)
            if f is not None:
                stated[f] = self._outdated(f, facts[f])
        facts_text = " and ".join(fact_phrase(rng, f, stated[f]) for f in fields)
        reply = f"The {p['name']} ({p['code']}) {facts_text}." if rng.random() < 0.85 else f"It {facts_text}."
        if rng.random() < RATES["invented_successor"]:
            invented = f"{CATEGORIES[p['category']]}-{rng.randint(1000, 9999)}-EU"
            if all(invented != q["code"] for q in self.catalog):
                reply += f" It has since been replaced by the {invented}."
        return msg, reply

    def _outdated(self, field: str, value):
        """A plausible but wrong (outdated) value for a numeric field."""
        rng = self.rng
        if field == "price_eur":
            return round(value + rng.choice([-30, -10, 10, 20, 40]), 2)
        if field in ("capacity_l", "water_l"):
            step = 0.5 if value < 5 else 3
            return round(value + step if rng.random() < 0.5 else value - step, 1)
        step = {"power_w": 200, "noise_db": 4, "speeds": 2, "place_settings": 2, "pressure_bar": 4,
                "warranty_years": 1}.get(field, 10)
        return value + step if rng.random() < 0.5 or value <= step else value - step

    def _customer_extras(self, msg: str, first: str, last: str) -> str:
        """PII, a signature and a quoted earlier reply around a customer's message."""
        rng = self.rng
        extras = []
        if rng.random() < RATES["phone"]:
            extras.append(f"You can reach me on {phone(rng)}.")
        if rng.random() < RATES["email"]:
            alt = f"{_ascii(first)[0]}.{_ascii(last.split()[-1])}@{rng.choice(['work.example', 'firma.example'])}"
            extras.append(f"Please answer to {alt} instead.")
        if rng.random() < RATES["iban"]:
            extras.append(f"For a refund my IBAN is {iban(rng)}.")
        if rng.random() < RATES["card"]:
            extras.append(f"I paid with card {luhn_card(rng)}.")
        if rng.random() < RATES["address"]:
            extras.append(f"Delivery address: {rng.choice(ADDRESSES).format(n=rng.randint(2, 180))}.")
        if extras:
            msg = msg + " " + " ".join(extras)
        if rng.random() < RATES["name_intro"]:
            msg = f"My name is {first} {last}. " + msg
        if rng.random() < RATES["customer_signature"]:
            msg += rng.choice([f"\n\nThanks,\n{first} {last}", f"\n\nKind regards,\n{first} {last}\nSent from my phone",
                               f"\n\n--\n{first} {last}\n{phone(rng)}", f"\n\nBest,\n{first.upper()} {last.upper()}"])
        if rng.random() < RATES["quoted_reply"]:
            prev = rng.choice(["Thank you for your message, we are looking into it.",
                               "Could you send us a photo of the rating plate?"])
            msg += (f"\n\nOn {rng.randint(1, 28)} Feb 2024, Hearthline Customer Care <care@hearthline.example> "
                    f"wrote:\n> {prev}\n> Best, Hearthline Customer Care")
        return msg

    def _agent_wrap(self, reply: str, first: str) -> str:
        """Greeting, courtesy line and signature around an agent's answer."""
        rng = self.rng
        greet = rng.choice([f"Hi {first},", f"Hello {first},", f"Dear {first},", "Hello,"])
        courtesy = rng.choice(COURTESY)
        sign = rng.choice(["Best regards,\nHearthline Customer Care",
                           "Kind regards,\nHearthline Kitchen | care@hearthline.example | +31 20 794 1100"])
        return f"{greet}\n\n{reply}{' ' + courtesy if courtesy else ''}\n\n{sign}"

    def _html(self, text: str) -> str:
        """Text as a web form stores it: paragraphs, line breaks and entities."""
        paras = [p.replace("&", "&amp;").replace("\n", "<br>") for p in text.split("\n\n")]
        return self.rng.choice(['<div class="form">', ""]) + "".join(f"<p>{p}</p>" for p in paras) + \
            self.rng.choice(["</div>", "&nbsp;"])

    def near_duplicate(self, rec: dict) -> dict:
        """A copy of a ticket with a small edit (case, punctuation or an extra word)."""
        msg = rec["message"]
        edit = self.rng.choice(["case", "punct", "extra"])
        if edit == "case":
            msg = msg[0].swapcase() + msg[1:] if msg else msg
        elif edit == "punct":
            msg = msg.replace(".", "!", 1).replace("?", "??", 1)
        else:
            msg = msg + " Thanks!"
        return dict(rec, message=msg)


def make_tickets(rng: random.Random, catalog: list[dict], n: int, web_forms: int) -> list[dict]:
    """n raw tickets (duplicates and near duplicates among them), each with a date; HTML only in the first
    ``web_forms`` (the help desk's export holds the web form's tickets)."""
    maker = TicketMaker(rng, catalog)
    tickets: list[dict] = []
    start = datetime(2023, 3, 1, 8, 0)
    for i in range(n):
        when = start + timedelta(minutes=i * 211 + rng.randint(0, 90))
        if tickets and rng.random() < RATES["exact_duplicate"]:
            rec = dict(rng.choice(tickets))
        elif tickets and rng.random() < RATES["near_duplicate"]:
            rec = maker.near_duplicate(rng.choice(tickets))
        else:
            rec = maker.make(html=i < web_forms and rng.random() < RATES["html"])
        tickets.append(dict(rec, when=when))
    return tickets


def write_helpdesk(rng: random.Random, tickets: list[dict], path: Path) -> None:
    """The e-mail and web-form export: semicolons, a byte-order mark, CRLF, a priority column, two broken rows."""
    header = ["ticket_id", "created_at", "priority", "channel", "product", "subject", "customer_name",
              "customer_email", "customer_message", "agent_name", "agent_reply"]
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    out.writerow(header)
    for i, t in enumerate(tickets):
        row = [f"HD-{24000 + i}", t["when"].strftime("%d.%m.%Y %H:%M"), rng.choice(["low", "normal", "high"]),
               "web form" if t["message"].startswith("<") else "email", t["product"], t["subject"], t["name"],
               t["email"], t["message"], t["agent"], t["reply"]]
        if i == 41:
            row[0] = ""  # an id the export lost
        out.writerow(row[:8] if i == 97 else row)  # a row the export cut short
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def write_chats(rng: random.Random, tickets: list[dict], path: Path) -> None:
    """Chat transcripts, one JSON object a line; one broken line, one without transcript, one chat exported twice."""
    lines = []
    for i, t in enumerate(tickets):
        turns = [{"from": "customer", "text": t["message"]}]
        if rng.random() < 0.3:
            turns.insert(0, {"from": "agent", "name": t["agent"], "text": "Hi! How can I help you today?"})
        if t["reply"]:
            turns.append({"from": "agent", "name": t["agent"], "text": t["reply"]})
        chat = {"chat_id": f"CH-{80000 + i}", "started_at": t["when"].strftime("%Y-%m-%dT%H:%M:00Z"),
                "customer": {"name": t["name"], "email": t["email"]}, "product": t["product"] or None,
                "transcript": turns}
        if i == 23:
            del chat["transcript"]
        text = json.dumps(chat, ensure_ascii=False)
        lines.append(text[: len(text) // 2] if i == 58 else text)
        if i == 77:
            lines.append(text)  # the same chat exported twice under its id
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def write_returns(rng: random.Random, tickets: list[dict], path: Path) -> None:
    """An older tab-separated export from the returns desk, in Windows-1252 (as legacy tools write it)."""
    header = ["ticket_id", "created_at", "customer_name", "customer_email", "product", "customer_message",
              "agent_reply"]
    buf = io.StringIO()
    out = csv.writer(buf, delimiter="\t", lineterminator="\r\n")
    out.writerow(header)
    for i, t in enumerate(tickets):
        out.writerow([f"R{3100 + i}", t["when"].strftime("%Y-%m-%d"), t["name"], t["email"], t["product"],
                      t["message"], t["reply"]])
    path.write_bytes(buf.getvalue().encode("cp1252"))


def generate(out: Path, products: int, tickets: int, seed: int) -> dict[str, int]:
    """Write the corpus into ``out``; return how many tickets went into each export."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    catalog = make_catalog(rng, products)
    (out / "catalog.json").write_text(json.dumps({"vendor": VENDOR, "products": catalog}, indent=1,
                                                 ensure_ascii=False) + "\n", encoding="utf-8")
    if SCHEMA.resolve() != (out / SCHEMA.name).resolve():
        shutil.copyfile(SCHEMA, out / SCHEMA.name)
    n_csv, n_chat = tickets * 11 // 20, tickets * 7 // 20
    made = make_tickets(rng, catalog, tickets, web_forms=n_csv)
    parts = {"helpdesk_2024.csv": made[:n_csv], "chats_2025.jsonl": made[n_csv:n_csv + n_chat],
             "returns_2023.tsv": made[n_csv + n_chat:]}
    write_helpdesk(rng, parts["helpdesk_2024.csv"], out / "helpdesk_2024.csv")
    write_chats(rng, parts["chats_2025.jsonl"], out / "chats_2025.jsonl")
    write_returns(rng, parts["returns_2023.tsv"], out / "returns_2023.tsv")
    (out / "export_notes.txt").write_text(
        f"Exported by the {VENDOR} help desk. helpdesk_2024.csv: e-mail and web-form tickets; chats_2025.jsonl: "
        "chat transcripts; returns_2023.tsv: the returns desk's old system.\n", encoding="utf-8")
    return {name: len(rows) for name, rows in parts.items()}


def main() -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "hearthline")
    ap.add_argument("--products", type=int, default=24)
    ap.add_argument("--tickets", type=int, default=420)
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args()
    counts = generate(args.out, args.products, args.tickets, args.seed)
    print(f"wrote {args.out}: {args.products} products, tickets per export {counts}")


if __name__ == "__main__":
    main()
