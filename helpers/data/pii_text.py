"""PII without a checksum, found by convention and context: order ids, street addresses, personal names.

Order ids only where a word says "order" (or a purchase-order shape like PO-2024-00042). Addresses by the
street and postcode conventions of several countries (number first as in the US, UK and France, street
name first as in Germany, the Netherlands, Scandinavia, Spain, Italy, Portugal and Poland), with the
city and postcode that follow. Names from the caller's metadata and from greetings, sign-offs, titles and
self-introductions, matched case- and accent-insensitively. All patterns repeat boundedly or possessively,
so their time is linear in the text.
"""
from __future__ import annotations

import unicodedata
from typing import Iterator

import regex

# ---------------------------------------------------------------- order ids
_ORDER_WORD = (r"(?i:purchase\s+order|order|bestell(?:ung|nummer|nr\.?)|auftrag(?:snummer)?|commande|pedido|"
               r"ordine|bestelling|ordernummer|zamówienie|encomenda)|(?-i:PO)")
_ORDER_MARK = (r"(?i:(?:number|numéro|número|numero|nummer|reference|num|ref|no|nr|id)(?:\.|(?!\w))|n[°º]|n\.)"
               r"|:")
_ORDER_FILL = r"(?i:is|was|says|confirmation|ist|est|es|è|é)"
_ORDER = regex.compile(
    rf"(?<![\w-])(?:{_ORDER_WORD})(?![\w-])(?P<fill>(?:[ \t]*+(?:{_ORDER_MARK}|{_ORDER_FILL}(?!\w))){{0,4}})[ \t]*+"
    r"(?P<id>#?[A-Za-z0-9](?:[A-Za-z0-9]|[-/](?=[A-Za-z0-9])){2,29})(?![\w-])")
_ORDER_SHAPES = regex.compile(r"(?<![\w-])(?:[A-Z]{2,4}-(?:19|20)\d{2}-\d{3,7}|\d{3}-\d{7}-\d{7}|(?:PO|ORD)-?\d{4,10})"
                              r"(?![\w-])")
_DATE_LIKE = regex.compile(r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d{2}")


def find_orders(text: str) -> Iterator[tuple[int, int]]:
    """Order ids: after an order word (with 5+ digits, or 3+ after "no."/"#"/":"), or in a purchase-order shape."""
    for m in _ORDER.finditer(text):
        oid = m.group("id")
        digits = sum(c.isdigit() for c in oid)
        marked = oid.startswith("#") or regex.search(_ORDER_MARK, m.group("fill") or "")
        if digits >= 5 or (digits >= 3 and marked):
            if not _DATE_LIKE.fullmatch(oid.lstrip("#")):
                yield m.start("id"), m.end("id")
    for m in _ORDER_SHAPES.finditer(text):
        yield m.span()


# ---------------------------------------------------------------- addresses
_UNITS = {"mm", "cm", "m", "km", "kg", "g", "lb", "in", "ft", "v", "w", "a", "va", "hz", "ghz", "mhz", "gb", "tb",
          "mb", "kb", "mah", "wh", "kw", "rpm", "db", "pcs", "x"}
_DIRECTIONS = {"n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west"}
# A capitalised word (Baker, Saint-Michel, O'Connell); a dot only after an abbreviation (St. John's, Mt. Lee).
_CAP = r"(?:(?:St|Ste|Mt|Ft|Jr|Sr)\.|\p{Lu}[\p{L}'’-]{0,30}+)"
_NUM = r"\d{1,5}[A-Za-z]?(?:[-–/]\d{1,5}[A-Za-z]?){0,2}"   # 12, 221B, 43-45, 1-1-2 (Japanese chome-ban-go)
_UNIT_WORD = r"(?i:flat|apt\.?|apartment|unit|suite|ste\.?|level|floor|building|bldg\.?|shop|room)"
_UNIT_PREFIX = rf"(?:{_UNIT_WORD}[ \t]++[\w-]{{1,5}},?[ \t]++)?"
_EN_TYPE = (r"(?:(?:Street|Road|Avenue|Lane|Drive|Boulevard|Way|Court|Place|Terrace|Crescent|Close|Square|"
            r"Parkway|Highway|Circle|Trail|Row|Grove|Gardens|Mews|Parade|Quay|Wharf|Alley|Loop|Path|Pike|Plaza|"
            r"Heights|Ridge|Crossing|Hill|Rise|Vale|Walk)"
            r"|(?:St|Rd|Ave|Av|Ln|Dr|Blvd|Ct|Pl|Ter|Cres|Sq|Pkwy|Hwy|Cir)\.?)(?![\w])")
_DIRECTION = r"(?:[ \t]++(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)(?![\w]))?"
_FR_TYPE = r"(?i:rue|avenue|av\.|boulevard|bd|place|allée|allee|chemin|impasse|quai|route|cours|square|passage)"
_FR_LINK = r"(?:(?:de[ \t]+la|de[ \t]+l['’]|du|des|de|d['’]|la|le|les)[ \t]*+)?"
_STREET_SUFFIX = (r"(?:straße|strasse|str\.|gasse|weg|allee|platz|damm|ufer|chaussee|steig|pfad|markt|quai|kai|"
                  r"gracht|straat|laan|kade|singel|dijk|plein|gatan|vägen|gränd|torget|gade|vej|stræde|plads|veien|"
                  r"gata)")
_STREET_WORD = r"(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer|Chaussee|Laan|Straat)"
_LINK_WORD = (r"(?:den|der|dem|von|van|de|la|del|di|du|des|gate|vei|veien|gata|gatan|väg|vägen|vej|gade|plass|torg|"
              r"straße|strasse|weg|tie|katu)")
_ROMANCE_TYPE = (r"(?:Calle|C/|Avenida|Avda\.?|Av\.|Paseo|Plaza|Carrer|Camino|Ronda|Travesía|Via|Viale|Piazza|"
                 r"Piazzale|Corso|Largo|Vicolo|Rua|Travessa|Praça|Alameda|Estrada|Rue|Avenue|Boulevard|Chaussée|"
                 r"Strada|ul\.|al\.|os\.)")
_ROMANCE_LINK = (r"(?:(?:de[ \t]+la|de[ \t]+los|de[ \t]+las|del|de|dos|das|do|da|della|delle|dei|degli|di|des|du|"
                 r"de[ \t]+l['’])[ \t]++)?")
_PO_BOX = (r"(?i:p\.?[ \t]?o\.?[ \t]+box|postfach|apartado(?:[ \t]+de[ \t]+correos)?|casella[ \t]+postale|"
           r"boîte[ \t]+postale|caixa[ \t]+postal)[ \t]++\d{1,6}")
_CITY = (rf"{_CAP}(?:[ \t](?:(?:am|an|im|de|del|la|le|sur|upon|on|en|di|da)[ \t])?{_CAP}){{0,2}}")
_UK_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)[ \t]?\d[ABD-HJLNP-UW-Z]{2}"
_CA_POSTCODE = r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \t]?\d[ABCEGHJ-NPRSTV-Z]\d"
_EIRCODE = r"[AC-FHKNPRTV-Y]\d[\dW][ \t]?[AC-FHKNPRTV-Y\d]{4}"
_POSTCODE_BEFORE_CITY = r"(?:[A-Z]{1,2}-)?(?:\d{2}-\d{3}|\d{4}-\d{3}|\d{3}[ \t]\d{2}|\d{4,5}(?:[ \t]?[A-Z]{2}(?!\w))?)"
_POSTCODE_AFTER_CITY = (rf"(?:\d{{5}}-\d{{3}}|\d{{3}}-\d{{4}}|\d{{5}}(?:-\d{{4}})?|\d{{6}}|\d{{4}}|{_UK_POSTCODE}|"
                        rf"{_CA_POSTCODE}|{_EIRCODE})")
_NOT_YEAR = r"(?!(?:19|20)\d\d(?!\d))"


def _tail(city: bool) -> str:
    """What may follow a street: a flat or floor, a district, and the city with its postcode.

    With ``city`` the city and postcode are required, and a four-digit postcode must not read as a year
    (so "On 2 Mar 2023" is no address).
    """
    year = _NOT_YEAR if city else ""
    place = (rf"(?:[ \t]++[-–][ \t]++{_CITY})?"
             rf",?[ \t]++(?:{year}{_POSTCODE_BEFORE_CITY}[ \t]++{_CITY}"
             rf"|{_CITY}(?:[ \t]\d{{1,2}})?(?:,?[ \t]++(?:[-–][ \t]++)?[A-Z]{{2,3}}(?![\w]))?,?[ \t]++{year}"
             rf"{_POSTCODE_AFTER_CITY})"
             r"(?![\w-])")
    return (rf"(?:,?[ \t]++{_UNIT_WORD}[ \t]*+[\w-]{{1,6}}|,?[ \t]++\#[ \t]*+\w{{1,6}}|,[ \t]++\d{{1,2}}[º°ª](?:[ \t]?[A-Z])?)?"
            + (place if city else f"(?:{place})?"))


_STREET_NUM = rf"[ \t]++(?:n[º°o]\.?[ \t]*+)?{_NUM}(?![\w])"
# A street with a type word (High Street, rue de la Paix, Hauptstraße, Via Roma, ...); city and postcode optional.
_ADDRESS = regex.compile(
    r"(?<![\w.,/-])(?:"
    rf"{_UNIT_PREFIX}{_NUM},?[ \t]++(?P<words>(?:(?:{_CAP}|\d{{1,3}}(?:st|nd|rd|th))[ \t]++){{1,4}}){_EN_TYPE}{_DIRECTION}"
    rf"|{_NUM}(?:[ \t]?(?:bis|ter))?,?[ \t]++{_FR_TYPE}[ \t]++{_FR_LINK}{_CAP}(?:[ \t]++{_FR_LINK}{_CAP}){{0,3}}"
    rf"|(?:(?:Am|An[ \t]der|Im|In[ \t]der|Auf[ \t]der|Unter[ \t]den)[ \t]++)?\p{{Lu}}[\p{{L}}-]{{1,40}}(?<={_STREET_SUFFIX})"
    rf"{_STREET_NUM}"
    rf"|{_CAP}[ \t]++{_STREET_WORD}{_STREET_NUM}"
    rf"|{_ROMANCE_TYPE}[ \t]++{_ROMANCE_LINK}{_CAP}(?:[ \t]++{_ROMANCE_LINK}{_CAP}){{0,3}},?{_STREET_NUM}"
    rf"|{_PO_BOX}"
    rf"){_tail(city=False)}")
# A street without a type word (33 Holborn, Damrak 1, Karl Johans gate 22) counts only with a postcode after it.
_ADDRESS_UNTYPED = regex.compile(
    r"(?<![\w.,/-])(?:"
    rf"{_UNIT_PREFIX}{_NUM},?[ \t]++(?P<words>{_CAP}(?:,?[ \t]++{_CAP}){{0,2}})"
    rf"|(?P<words>{_CAP}(?:[ \t]++(?:{_CAP}|{_LINK_WORD})){{0,3}}){_STREET_NUM}"
    rf"){_tail(city=True)}")
_NL_UNIT_LETTERS = {"MB", "KB", "GB", "TB", "MW", "KW", "MA", "MM", "CM", "HZ", "VA", "PC", "AC", "DC", "HD", "SD",
                    "SA", "SS", "PM", "AM", "US", "EU", "UK", "LB", "OZ"}
_POSTCODE_ALONE = regex.compile(
    rf"(?<![\w-])(?:(?P<uk>{_UK_POSTCODE})|{_CA_POSTCODE}|\d{{4}}[ \t]?(?P<nl>[A-Z]{{2}})[ \t]++\p{{Lu}}\p{{Ll}}+)"
    r"(?![\w-])")


def _names_a_quantity(words: str) -> bool:
    """Whether the words after a number are a unit (2 TB Drive, 500 W Madison... is kept: W is a direction there)."""
    tokens = [w.lower().strip(".,") for w in words.split()]
    if len(tokens) > 1 and tokens[0] in _DIRECTIONS:
        tokens = tokens[1:]
    return any(t in _UNITS for t in tokens)


def _near_digits(text: str, before: int = 160, after: int = 240) -> Iterator[tuple[int, int]]:
    """Stretches of ``text`` around its digits (merged): every address holds a number, so only these are searched."""
    start = end = -1
    for m in _DIGITS.finditer(text):
        if start >= 0 and m.start() - before <= end:
            end = m.end() + after
            continue
        if start >= 0:
            yield start, min(end, len(text))
        start, end = max(0, m.start() - before), m.end() + after
    if start >= 0:
        yield start, min(end, len(text))


_DIGITS = regex.compile(r"\d++")
_CAPITAL = regex.compile(r"\p{Lu}")


def find_addresses(text: str) -> Iterator[tuple[int, int]]:
    """Street addresses (with the city and postcode that follow), and UK, Canadian and Dutch postcodes alone."""
    for lo, hi in _near_digits(text):
        if not _CAPITAL.search(text, lo, hi):   # every street, city and postcode pattern holds a capital
            continue
        for pattern in (_ADDRESS, _ADDRESS_UNTYPED):
            for m in pattern.finditer(text, lo, hi):
                if not _names_a_quantity(m.group("words") or ""):
                    yield m.span()
        for m in _POSTCODE_ALONE.finditer(text, lo, hi):
            if m.group("nl") in _NL_UNIT_LETTERS or (m.group("uk") and m.group("uk")[-2:] in ("GB", "TB", "MB", "PB")):
                continue
            yield m.span()


# ---------------------------------------------------------------- names
_TOKEN = r"(?:\p{Lu}[\p{L}'’]++(?:-\p{Lu}[\p{L}'’]*)?|\p{Lu}\.?)"
_PARTICLE = r"(?:van|von|der|den|de|da|del|della|di|du|le|la|dos|das|bin|al|ter|ten|y)"
_NAME_BODY = rf"{_TOKEN}(?:[ \t]++(?:{_PARTICLE}[ \t]++){{0,2}}{_TOKEN}){{0,2}}"
_NAME = rf"(?P<name>{_NAME_BODY})"
_TITLE = (r"(?:(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Sig|Sig\.ra|Signor|Signora|Dott|"
          r"Heer|Mevrouw)\.?|M\.)[ \t]++)")
_TITLED = rf"{_TITLE}(?P<name>(?:{_PARTICLE}[ \t]++){{0,2}}{_NAME_BODY})"   # Ms. de la Cruz
_GREETING = (r"(?i:hi|hello|hey|dear|good[ \t]++(?:morning|afternoon|evening)|hallo|liebe[r]?|sehr[ \t]+geehrte[r]?|"
             r"bonjour|bonsoir|cher|chère|hola|estimad[oa]|buenos[ \t]+días|ciao|buongiorno|salve|gentile|olá|oi|"
             r"prezad[oa]|hej|hoi|beste|geachte|dzień[ \t]+dobry|witaj|kia[ \t]+ora|g'day)")
_SIGN_OFF = (r"(?i:thanks|thank[ \t]+you|many[ \t]+thanks|thanks[ \t]+again|cheers|best|best[ \t]+regards|"
             r"(?:with[ \t]++)?(?:kind|warm|warmest|best)[ \t]++(?:regards|wishes)|regards|best[ \t]+wishes|"
             r"all[ \t]++(?:the[ \t]++)?best|sincerely(?:[ \t]+yours)?|yours[ \t]+sincerely|yours[ \t]+faithfully|"
             r"yours[ \t]+truly|yours|respectfully|take[ \t]+care|greetings|talk[ \t]+soon|speak[ \t]+soon|"
             r"bis[ \t]+bald|a[ \t]+presto|un[ \t]+abrazo|saludos[ \t]+cordiales|"
             r"mit[ \t]+freundlichen[ \t]+grüßen|viele[ \t]+grüße|beste[ \t]+grüße|liebe[ \t]+grüße|lg|gruß|grüße|"
             r"cordialement|bien[ \t]+cordialement|bien[ \t]+à[ \t]+vous|merci|salutations|saludos|un[ \t]+saludo|"
             r"atentamente|gracias|cordiali[ \t]+saluti|saluti|distinti[ \t]+saluti|grazie|"
             r"met[ \t]+vriendelijke[ \t]+groet(?:en)?|groeten|groet|obrigad[oa]|atenciosamente|abraços|"
             r"med[ \t]+vänliga[ \t]+hälsningar|mvh|hälsningar|pozdrawiam|z[ \t]+poważaniem|dziękuję)")
_INTRO_STRONG = r"(?i:my[ \t]+name[ \t]+is|my[ \t]+name's|je[ \t]+m'appelle|ich[ \t]+heiße|me[ \t]+llamo|mi[ \t]+chiamo|meu[ \t]+nome[ \t]+é)"
_INTRO_WEAK = r"(?i:i[ \t]+am|i'm|this[ \t]+is|je[ \t]+suis|ich[ \t]+bin|soy|sono|sou|hier)"
_NAME_END = r"(?=[ \t]*+(?:[,!:;]|\r?\n|$))"
_CONTEXT_NAMES = regex.compile(
    rf"(?m:^[ \t]*+{_GREETING}[ \t,]*(?:{_TITLED}|{_NAME}){_NAME_END}"
    rf"|^[ \t]*+{_GREETING}[ \t]++(?P<name>\p{{Ll}}[\p{{Ll}}'’-]{{1,20}})(?=,)"
    rf"|(?:^|(?<=[.!?][ \t]))[ \t]*+(?:{_SIGN_OFF}[ \t]*+(?:[,!.:]|--?|—|–)?|--)[ \t]*+(?:\r?\n[ \t]*+){{0,2}}"
    rf"(?:{_TITLED}|{_NAME})[ \t]*+(?P<signoff>(?=\r?\n|$))"
    rf"|^(?i:from|von|de|da):[ \t]*+{_NAME}[ \t]*+(?=<)"
    rf"|(?<!\w){_INTRO_STRONG}[ \t]++{_NAME}"
    rf"|(?<!\w){_INTRO_WEAK}[ \t]++{_NAME}(?=[ \t]*+(?:[,.!;]|$|[ \t]++(?i:here|from|speaking)(?!\w)))"
    rf"|(?<![\w.]){_TITLED})")
_NOT_NAMES = {"there", "team", "all", "everyone", "everybody", "again", "support", "sir", "madam", "customer",
              "customers", "friends", "folks", "guys", "colleagues", "admin", "both", "you", "service", "sales",
              "department", "staff", "user", "client", "partner", "manager", "gentlemen", "ladies", "or", "and",
              "the", "a", "an", "thanks", "thank", "regards", "best", "happy", "sorry", "good", "great", "fine",
              "ok", "okay", "not", "just", "also", "here", "new", "back", "still", "looking", "writing", "helpdesk",
              "hardware", "store", "shop", "order", "orders", "billing", "accounts", "sent", "friend", "mate",
              "sirs", "dear", "world", "man", "buddy", "people", "colleague", "gents", "hello", "hi", "hey", "y'all",
              "yall", "again", "please", "quick", "question", "urgent"}
_STAFF_LINE = regex.compile(r"(?i:support|team|service|helpdesk|help[ \t]desk|customer[ \t]care|kundenservice|"
                            r"kundendienst|service[ \t]client|atención|assistenza)")


def _is_staff_signature(text: str, end: int) -> bool:
    """Whether a signed name is followed by a team line (``Voltaris Support``): the vendor's staff, not a customer."""
    lines = [ln.strip() for ln in text[end:end + 200].splitlines()[1:4] if ln.strip() and ln.strip() != "--"]
    return bool(lines) and bool(_STAFF_LINE.search(lines[0]))


def _context_names(text: str) -> list[tuple[str, int, int]]:
    """Names the text itself introduces (greetings, sign-offs, mail headers, self-introductions, titles), with spans."""
    out = []
    for m in _CONTEXT_NAMES.finditer(text):
        tokens = [t for t in m.group("name").split() if not regex.fullmatch(_PARTICLE, t)]
        if any(t.lower().strip(".'’") in _NOT_NAMES for t in tokens):
            continue
        if m.group("signoff") is not None and _is_staff_signature(text, m.end()):
            continue
        name = m.group("name").rstrip(".")
        out.append((name, m.start("name"), m.start("name") + len(name)))
    return out


_TRANSLIT = {"ß": "ss", "ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"}
_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` lower-cased without accents, and for each folded character the index of its original one."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    out, index = [], []
    for i, ch in enumerate(text):
        low = ch.lower()
        base = _TRANSLIT.get(low) or "".join(c for c in unicodedata.normalize("NFD", low)
                                             if not unicodedata.combining(c))
        out.append(base)
        index += [i] * len(base)
    return "".join(out), index


def _variants(name: str) -> set[str]:
    """A name folded as written and with German umlauts spelled out (Schäfer -> schafer, schaefer)."""
    spelled = "".join(_GERMAN.get(c, c) for c in name)
    return {_fold(name)[0], _fold(spelled)[0]}


def find_names(text: str, names: list[str]) -> Iterator[tuple[int, int]]:
    """Every occurrence of the given names and of the names the text introduces, case- and accent-insensitive.

    A name of two words or more matches in any case; a single word (a first name, a surname, a part of
    three letters or more) only where it starts with a capital, so "Grace" is found and "grace period" not.
    """
    introduced = _context_names(text)
    yield from ((start, end) for _, start, end in introduced)
    given = [n.strip() for n in names if n and n.strip()] + [name for name, _, _ in introduced]
    variants = {" ".join(v.split()) for n in given for v in _variants(n)} - {""}
    multi = {v for v in variants if " " in v}
    single = ({v for v in variants if " " not in v}
              | {p for v in multi for p in v.split() if len(p) >= 3 and not regex.fullmatch(_PARTICLE, p)})
    if not variants:
        return
    folded, index = _fold(text)
    alternatives = sorted(multi | single, key=len, reverse=True)
    pattern = regex.compile(r"(?<!\w)(?:" + "|".join(r"[ \t\r\n]+".join(map(regex.escape, a.split()))
                                                   for a in alternatives) + r")(?!\w)")
    for m in pattern.finditer(folded):
        start, end = index[m.start()], index[m.end() - 1] + 1
        while end < len(text) and unicodedata.combining(text[end]):
            end += 1
        if m.group(0) in single and not text[start].isupper():
            continue
        yield start, end
