"""The whole curation, from raw exports to train/val/test files and a data card, in one call.

```
result = curate("data_samples/voltaris", run.data, settings.data, tokenizer=tok,
                bitext="data_samples/bitext/intents_sample.csv", plots_dir=run.plots)
```
Writes into the output folder: ``train.jsonl``, ``val.jsonl``, ``feedback.jsonl``, ``test.jsonl`` (the
shared example format of :mod:`helpers.core.examples`), ``catalog.json`` (the catalog with its declared
fields), ``quarantine.jsonl`` (malformed records with file, line, reason and raw text), ``removed.jsonl`` (every record removed, with
stage and reason), ``flagged.jsonl`` (replies that contradicted the catalog), ``card.json`` and
``card.md`` (with every file of the source folder: read, skipped or unreadable, and per file
read = kept + quarantined + removed); the plots go to ``plots_dir``.
"""
from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ..core.config import DataSettings
from ..core.examples import question
from ..core.paths import COURSE_DIR, SAMPLES_DIR
from ..core.runs import write_json, write_jsonl
from .card import Funnel, card_markdown, counts_figure, funnel_figure, lengths_figure, reconcile_files, save_figures
from .catalog import Catalog
from .cleaning import clean_message, clean_reply
from .dedup import deduplicate, near_duplicate_clusters
from .fact_check import FactChecker
from .grounding import REASONS, ground
from .pii import placeholder_counts, redact
from .quality import languages, quality_reason
from .review import decide, kept_by_review, load_decisions, redaction_key, reviewed_text
from .scope import narrow, scope_products
from .sources import Loaded, Quarantined, load_bitext, load_tickets
from .splits import SPLITS, assign_by_group, content_hash, leakage_report, near_duplicate_of
from .synthesis import catalog_examples, noun_examples, routing_example, ticket_example


NOUN_SOURCE = "catalog words"
"""The funnel's name for the training questions asking a field by the schema's other words (``noun_examples``)."""
BITEXT_SAMPLE = SAMPLES_DIR / "bitext" / "intents_sample.csv"
"""The committed sample of Bitext intent utterances (the routing task's source by default)."""


def resolve_path(path: str | Path) -> Path:
    """A data path as given, or, when it does not exist from here, relative to the notebooks folder."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    return (COURSE_DIR / "notebooks" / path).resolve()


@dataclass
class CurationResult:
    """Everything curation produced, also written to disk."""

    splits: dict[str, list[dict[str, Any]]]
    funnel: Funnel
    card: dict[str, Any]
    flagged: list[dict[str, Any]]
    quarantine: list[Quarantined]
    removed: list[dict[str, Any]]
    figures: dict[str, Figure] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, int]:
        """The headline numbers for the run's metrics.json."""
        rec = self.card["reconciliation"]
        return {"raw_records": sum(r["read"] for k, r in rec.items() if k != "catalog"),
                "kept_examples": sum(len(v) for v in self.splits.values()),
                **{k: len(v) for k, v in self.splits.items()}}


class _Removals:
    """Collects removed records (source, id, stage, reason) and counts per stage."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, source: str, rid: str, stage: str, reason: str) -> None:
        self.rows.append({"source": source, "id": rid, "stage": stage, "reason": reason})

    def count(self, source: str, stage: str) -> Counter:
        return Counter(r["reason"] for r in self.rows if r["source"] == source and r["stage"] == stage)


def _tickets(source_dir: Path, catalog: Catalog, settings: DataSettings, funnel: Funnel, removals: _Removals,
             decisions: dict[str, dict[str, Any]] | None) -> tuple[list[dict], list[dict], Loaded]:
    """Ticket exports -> grounded product_qa examples; also the flagged items and what was loaded."""
    checker = FactChecker(catalog)
    loaded = load_tickets(source_dir)
    n = funnel.step("load", "ticket", loaded.read, Counter(q.reason.split(" (")[0] for q in loaded.quarantine))
    decisions = decisions or {}
    rows = []
    for t in loaded.tickets:
        msg, reply = clean_message(t.message), clean_reply(t.reply)
        if max(len(msg), len(reply)) > settings.max_chars:  # before the PII patterns and the language detector
            removals.add("ticket", t.id, "quality", "too long")
            continue
        names = [t.customer_name]
        message = reviewed_text(decisions, redaction_key(t.id, "message"), redact(msg, names)[0])
        answer = reviewed_text(decisions, redaction_key(t.id, "reply"), redact(reply, names)[0])
        if message is None or answer is None:
            removals.add("ticket", t.id, "quality", "redaction rejected in review")
            continue
        kept_as = kept_by_review(decisions, t.id)  # a person kept this ticket although a filter removed it
        rows.append({"ticket": t, "message": message if kept_as is None else kept_as, "reply": answer,
                     "reviewed": kept_as is not None})
    langs = languages([r["message"] + " " + r["reply"] for r in rows])
    kept = []
    for r, lang in zip(rows, langs):
        reason = None if r["reviewed"] else quality_reason(r["message"], r["reply"], lang, settings.min_chars)
        if reason:
            removals.add("ticket", r["ticket"].id, "quality", reason)
        else:
            kept.append(r)
    n = funnel.step("clean, redact, quality", "ticket", n, removals.count("ticket", "quality"))
    keep, dup = deduplicate([r["message"] + " || " + r["reply"] for r in kept], settings.near_dup_threshold)
    for i, (reason, _) in dup.items():
        if kept[i]["reviewed"]:
            keep.append(i)
        else:
            removals.add("ticket", kept[i]["ticket"].id, "dedup", reason)
    kept = [kept[i] for i in sorted(keep)]
    n = funnel.step("deduplicate", "ticket", n, removals.count("ticket", "dedup"))
    examples, flagged = [], []
    for r in kept:
        t = r["ticket"]
        g = ground(checker, r["message"], r["reply"], t.product)
        if g.status in ("corrected", "contradiction"):
            flagged.append({"id": t.id, "status": g.status, "product": g.code, "question": r["message"],
                            "original": r["reply"], "proposed": g.answer,
                            "wrong": {k: [str(x) for x in v] for k, v in g.wrong.items()}})
        elif g.status != "ok":
            removals.add("ticket", t.id, "grounding", REASONS[g.status])
            continue
        r["grounded"] = g
        examples.append(r)
    chosen = decide(flagged, decisions)
    final = []
    for r in examples:
        t, g = r["ticket"], r["grounded"]
        if g.status in ("corrected", "contradiction"):
            d = chosen[t.id]
            if d["decision"] == "reject":
                removals.add("ticket", t.id, "grounding", f"contradicts the catalog, rejected ({d['by']})")
                continue
            g = ground(checker, r["message"], d["text"], g.code or "")
            if g.status != "ok":
                removals.add("ticket", t.id, "grounding", "reviewed answer still contradicts the catalog")
                continue
        ex = ticket_example(catalog, catalog.get(g.code), r["message"], g.answer, g.fields, settings.answer_form)
        ex["id"] = _example_id(t.id)
        final.append(ex)
    funnel.step("ground in catalog", "ticket", n, removals.count("ticket", "grounding"))
    return final, flagged, loaded


def _example_id(ticket_id: str) -> str:
    """The id of the training example made from a ticket."""
    return f"tk-{ticket_id}"


def _file_rows(loaded: Loaded, removed: list[dict], kept: list[dict]) -> list[dict[str, Any]]:
    """Per file of the source folder: read = kept + quarantined + removed (records traced by their ids)."""
    record_file = {rid: t.file for t in loaded.tickets for rid in (t.id, _example_id(t.id))}
    return reconcile_files([f.to_dict() for f in loaded.files], record_file,
                           [r["id"] for r in removed if r["source"] == "ticket"],
                           [ex["id"] for ex in kept if ex["meta"]["source"] == "ticket"])


def _routing(bitext: Path, settings: DataSettings, funnel: Funnel,
             removals: _Removals) -> tuple[list[dict], list[Quarantined]]:
    """Bitext utterances -> deduplicated routing examples, at most routing_per_intent per intent."""
    rows, bad = load_bitext(bitext)
    n = funnel.step("load", "bitext", len(rows) + len(bad), Counter(q.reason for q in bad))
    keep, dup = deduplicate([r["utterance"] for r in rows], settings.near_dup_threshold)
    for i, (reason, _) in dup.items():
        removals.add("bitext", f"bitext-{i}", "dedup", reason)
    n = funnel.step("deduplicate", "bitext", n, removals.count("bitext", "dedup"))
    by_intent: dict[str, list[int]] = defaultdict(list)
    for i in keep:
        by_intent[rows[i]["intent"]].append(i)
    rng = random.Random(settings.seed)
    chosen = []
    for intent in sorted(by_intent):
        idx = by_intent[intent]
        rng.shuffle(idx)
        chosen += idx[:settings.routing_per_intent]
        for i in idx[settings.routing_per_intent:]:
            removals.add("bitext", f"bitext-{i}", "balance", "over the per-intent cap")
    funnel.step("balance intents", "bitext", n, removals.count("bitext", "balance"))
    examples = []
    for i in sorted(chosen):
        ex = routing_example(rows[i]["utterance"], rows[i]["intent"])
        ex["id"] = f"rt-{i:05d}"
        examples.append(ex)
    return examples, bad


def _split(examples: list[dict], roles: dict[str, str], settings: DataSettings, funnel: Funnel,
           removals: _Removals) -> dict[str, list[dict]]:
    """Group near-duplicate questions, split by group (or by phrasing role), drop groups that would straddle."""
    clusters = near_duplicate_clusters([question(ex) for ex in examples], settings.near_dup_threshold)
    for ex, c in zip(examples, clusters):
        ex["meta"]["group"] = f"g{c:05d}"
    fractions = {"val": settings.val_fraction, "feedback": settings.feedback_fraction, "test": settings.test_fraction}
    by_group = assign_by_group(examples, fractions, settings.seed)
    where = [roles.get(ex["id"], s) for ex, s in zip(examples, by_group)]
    members: dict[str, Counter] = defaultdict(Counter)
    for ex, s in zip(examples, where):
        members[ex["meta"]["group"]][s] += 1
    splits: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for ex, s in zip(examples, where):
        counts = members[ex["meta"]["group"]]
        home = max(SPLITS, key=lambda x: (counts[x], x == "train"))
        if s != home:
            removals.add(ex["meta"]["source"], ex["id"], "split", "near-duplicate of an example in another split")
        else:
            splits[s].append(ex)
    for source in ("ticket", "catalog", "bitext"):
        n = sum(ex["meta"]["source"] == source for ex in examples)
        funnel.step("split", source, n, removals.count(source, "split"))
    return splits


def _training_only(splits: dict[str, list[dict]], extra: list[dict], source: str, threshold: float, funnel: Funnel,
                   removals: _Removals) -> int:
    """Add ``extra`` to the training split, except those near-duplicate of a held-out question (removed with that
    reason, by the rule of the leakage report; the funnel's ``source`` row counts both); how many were added."""
    held_out = [question(ex) for s in SPLITS if s != "train" for ex in splits[s]]
    for ex, repeats in zip(extra, near_duplicate_of(held_out, [question(ex) for ex in extra], threshold)):
        if repeats:
            removals.add(source, ex["id"], "split", "near-duplicate of a held-out question")
        else:
            splits["train"].append(ex)
    return funnel.step("synthesize, for training only", source, len(extra), removals.count(source, "split"))


def _fit_budget(splits: dict[str, list[dict]], scope: list[str], settings: DataSettings, funnel: Funnel,
                removals: _Removals) -> dict[str, list[dict]]:
    """Narrow the splits to the profile's products and routing cap (a no-op with the defaults)."""
    if not (settings.max_products or settings.routing_train_per_intent):
        return splits
    before = Counter(ex["meta"]["source"] for s in SPLITS for ex in splits[s])
    splits, removed = narrow(splits, scope, settings.routing_train_per_intent)
    for ex, reason in removed:
        removals.add(ex["meta"]["source"], ex["id"], "scope", reason)
    for source in ("ticket", "catalog", "bitext"):
        funnel.step("fit to the profile's budget", source, before[source], removals.count(source, "scope"))
    return splits


def token_lengths(tokenizer: Any, examples: list[dict]) -> list[int]:
    """Tokens per example after the chat template (system, user and assistant turns), tokenized in one batch."""
    texts = [tokenizer.apply_chat_template(ex["messages"], tokenize=False, add_generation_prompt=False)
             for ex in examples]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def curate(source_dir: str | Path, out_dir: str | Path, settings: DataSettings, tokenizer: Any = None,
           bitext: str | Path | None = None, decisions: dict[str, dict[str, Any]] | None = None,
           plots_dir: str | Path | None = None, name: str = "") -> CurationResult:
    """Curate a raw corpus (catalog.json + ticket exports) and Bitext intents into split training files."""
    started = time.perf_counter()
    source_dir, out_dir = resolve_path(source_dir), Path(out_dir)
    bitext = resolve_path(bitext) if bitext else BITEXT_SAMPLE
    if not bitext.exists():
        raise FileNotFoundError(f"{bitext}: Bitext intents CSV not found; pass bitext=<path to a CSV with "
                                "utterance and intent columns>")
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog.load(source_dir / "catalog.json")
    catalog.save(out_dir / "catalog.json")
    if decisions is None:
        decisions = load_decisions(out_dir / "review.json")
    funnel, removals = Funnel(), _Removals()
    tickets, flagged, loaded = _tickets(source_dir, catalog, settings, funnel, removals, decisions)
    qa, role_list = catalog_examples(catalog, settings.phrasings, settings.seed, settings.code_only_train,
                                     settings.answer_form)
    for i, ex in enumerate(qa):
        ex["id"] = f"qa-{i:05d}"
    funnel.step("synthesize from catalog", "catalog", len(qa), {})
    routing, bad = _routing(bitext, settings, funnel, removals)
    quarantine = loaded.quarantine + bad
    roles = {ex["id"]: role for ex, role in zip(qa, role_list)}
    splits = _split(tickets + qa + routing, roles, settings, funnel, removals)
    scope = scope_products(catalog, settings.max_products)
    splits = _fit_budget(splits, scope, settings, funnel, removals)
    if settings.noun_questions:
        _training_only(splits, noun_examples(catalog, scope, settings.noun_questions, settings.seed,
                                             settings.answer_form), NOUN_SOURCE, settings.near_dup_threshold,
                       funnel, removals)
    figures: dict[str, Figure] = {"funnel": funnel_figure(funnel)}
    kept = [ex for s in SPLITS for ex in splits[s]]
    card: dict[str, Any] = {"name": name or out_dir.parent.name, "source_dir": str(source_dir),
                            "funnel": funnel.rows, "reconciliation": funnel.reconcile(),
                            "files": _file_rows(loaded, removals.rows, kept),
                            "splits": {s: {"n": len(v), "sha256": content_hash(v),
                                           "by_task": dict(Counter(ex["task"] for ex in v))}
                                       for s, v in splits.items()},
                            "leakage": leakage_report(splits, settings.near_dup_threshold),
                            "pii_placeholders": dict(sum((Counter(placeholder_counts(question(ex))) for ex in kept),
                                                         Counter())),
                            "flagged": dict(Counter(f"{f['status']} -> {decide([f], decisions)[f['id']]['decision']}"
                                                    for f in flagged)),
                            "scope": {"products": scope if settings.max_products else "all",
                                      "routing_train_per_intent": settings.routing_train_per_intent or "all"},
                            "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__}}
    card["reconciliation"]["ticket"]["reconciles"] &= all(f["reconciles"] for f in card["files"])
    if tokenizer is not None:
        lengths = token_lengths(tokenizer, kept)
        srt = sorted(lengths)
        card["token_lengths"] = {"n": len(lengths), "max_length": settings.max_length, "max": srt[-1],
                                 "median": srt[len(srt) // 2], "over_max": sum(n > settings.max_length for n in lengths)}
        figures["lengths"] = lengths_figure(lengths, settings.max_length, "tokens")
    else:
        figures["lengths"] = lengths_figure([sum(len(m["content"]) for m in ex["messages"]) for ex in kept],
                                            None, "characters")
    figures["per_product"] = counts_figure(Counter(ex["meta"]["product"] for ex in kept if ex["meta"]["product"]),
                                           "Product questions per product")
    figures["per_intent"] = counts_figure(Counter(ex["meta"]["intent"] for ex in kept if ex["meta"]["intent"]),
                                          "Routing examples per intent")
    paths = {s: write_jsonl(out_dir / f"{s}.jsonl", v) for s, v in splits.items()}
    paths["quarantine"] = write_jsonl(out_dir / "quarantine.jsonl", [q.to_dict() for q in quarantine])
    paths["removed"] = write_jsonl(out_dir / "removed.jsonl", removals.rows)
    paths["flagged"] = write_jsonl(out_dir / "flagged.jsonl", flagged)
    if plots_dir is not None:
        card["plots"] = {k: str(v) for k, v in save_figures(figures, Path(plots_dir)).items()}
    card["seconds"] = round(time.perf_counter() - started, 2)
    paths["card"] = write_json(out_dir / "card.json", card)
    paths["card_md"] = out_dir / "card.md"
    paths["card_md"].write_text(card_markdown(card, funnel), encoding="utf-8")
    return CurationResult(splits, funnel, card, flagged, quarantine, removals.rows, figures, paths)
