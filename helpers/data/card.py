"""The data card: a funnel of what every stage removed and why, split sizes and hashes, and plots."""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ..core.display import plain

_MD_SYNTAX = re.compile(r"[\\`*_\[\]|#!]")


@dataclass
class Funnel:
    """Stage-by-stage counts per source; every record that leaves a stage leaves with a reason."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def step(self, stage: str, source: str, n_in: int, removed: dict[str, int] | Counter) -> int:
        """Record one stage; returns how many records went on."""
        removed = {k: int(v) for k, v in sorted(removed.items()) if v}
        out = n_in - sum(removed.values())
        self.rows.append({"stage": stage, "source": source, "in": n_in, "out": out, "removed": removed})
        return out

    def reconcile(self) -> dict[str, dict[str, Any]]:
        """Per source: read = kept + quarantined + removed, and whether each stage starts where the last ended."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            src = out.setdefault(row["source"], {"read": row["in"], "quarantined": 0, "removed": 0, "kept": 0,
                                                  "chained": True, "_last": row["in"]})
            src["chained"] &= row["in"] == src["_last"]
            src["_last"] = row["out"]
            n = sum(row["removed"].values())
            if row["stage"] == "load":
                src["quarantined"] += n
            else:
                src["removed"] += n
            src["kept"] = row["out"]
        for src in out.values():
            src.pop("_last")
            src["reconciles"] = src["chained"] and src["read"] == src["kept"] + src["quarantined"] + src["removed"]
        return out


def reconcile_files(files: list[dict[str, Any]], record_file: dict[str, str], removed: list[str],
                    kept: list[str]) -> list[dict[str, Any]]:
    """Each file's report with kept and removed counts (records traced to their file by id) and whether
    read = kept + quarantined + removed; a removed or kept id of no known file makes no file reconcile."""
    removed_by, kept_by = Counter(record_file.get(r) for r in removed), Counter(record_file.get(k) for k in kept)
    traced = None not in removed_by and None not in kept_by
    rows = []
    for f in files:
        row = {**f, "kept": kept_by[f["file"]], "removed": removed_by[f["file"]]}
        row["reconciles"] = traced and row["read"] == row["kept"] + row["quarantined"] + row["removed"]
        rows.append(row)
    return rows


def _md(text: Any) -> str:
    """Text from the data (a file name, a reason) shown as text in Markdown: HTML and Markdown syntax escaped."""
    return _MD_SYNTAX.sub(r"\\\g<0>", html.escape(str(text), quote=False))


def files_markdown(files: list[dict[str, Any]]) -> str:
    """Every entry of the source folder as a Markdown table: read (with its counts), skipped or unreadable."""
    lines = ["| file | status | format | encoding | read | kept | quarantined | removed | reconciles | note |",
             "|---|---|---|---|---:|---:|---:|---:|---|---|"]
    for f in files:
        counts = [str(f[k]) for k in ("read", "kept", "quarantined", "removed")] if f["status"] == "read" else ["-"] * 4
        lines.append(f"| {_md(f['file'])} | {f['status']} | {f['format'] or '-'} | {_md(f['encoding']) or '-'} | "
                     f"{' | '.join(counts)} | {f['reconciles'] if f['status'] == 'read' else '-'} | "
                     f"{_md(f['reason']) or '-'} |")
    return "\n".join(lines)


def funnel_markdown(funnel: Funnel) -> str:
    """The funnel as a Markdown table."""
    lines = ["| source | stage | in | out | removed (reason: count) |", "|---|---|---:|---:|---|"]
    for r in funnel.rows:
        why = "; ".join(f"{_md(k)}: {v}" for k, v in r["removed"].items()) or "-"
        lines.append(f"| {r['source']} | {r['stage']} | {r['in']} | {r['out']} | {why} |")
    return "\n".join(lines)


def card_markdown(card: dict[str, Any], funnel: Funnel) -> str:
    """The whole data card as Markdown."""
    splits = card["splits"]
    lines = [f"# Data card: {_md(card['name'])}", "", f"Source: {_md(card['source_dir'])}. Curated in "
             f"{card['seconds']:.1f} s.", "", "## Files", "",
             "Every entry of the source folder: read as a ticket export, skipped (with the reason) or unreadable "
             "(with the reason). Each record read is kept, quarantined (`quarantine.jsonl`: file, line, reason) or "
             "removed (`removed.jsonl`: stage, reason); a record whose id was already read is quarantined as "
             "`duplicate id`, naming where the first one is.", "", files_markdown(card.get("files", [])), "",
             "## Funnel", "", funnel_markdown(funnel), "",
             "## Reconciliation (read = kept + quarantined + removed)", "",
             "| source | read | kept | quarantined | removed | reconciles |", "|---|---:|---:|---:|---:|---|"]
    for name, r in card["reconciliation"].items():
        lines.append(f"| {name} | {r['read']} | {r['kept']} | {r['quarantined']} | {r['removed']} | {r['reconciles']} |")
    lines += ["", "## Splits", "", "| split | examples | product_qa | routing | sha256 |", "|---|---:|---:|---:|---|"]
    for name, s in splits.items():
        lines.append(f"| {name} | {s['n']} | {s['by_task'].get('product_qa', 0)} | {s['by_task'].get('routing', 0)} "
                     f"| `{s['sha256'][:16]}` |")
    lines += ["", "## Leakage checks (all must be 0)", ""]
    lines += [f"- {k}: {v}" for k, v in card["leakage"].items()]
    lines += ["", "## PII placeholders in the kept examples", ""]
    lines += [f"- {k}: {v}" for k, v in card["pii_placeholders"].items()] or ["- none"]
    lengths = card.get("token_lengths")
    if lengths:
        lines += ["", "## Token lengths", "", f"max_length {lengths['max_length']}: {lengths['over_max']} of "
                  f"{lengths['n']} examples would be truncated (longest {lengths['max']}, median {lengths['median']})."]
    return "\n".join(lines) + "\n"


def funnel_figure(funnel: Funnel) -> Figure:
    """Horizontal bars of records removed per reason, one colour per source."""
    removed = [(plain(f"{r['source']}: {k}"), v) for r in funnel.rows for k, v in r["removed"].items()]
    fig = Figure(figsize=(8, 0.3 * len(removed) + 1.2))
    ax = fig.add_subplot()
    ax.barh([k for k, _ in removed][::-1], [v for _, v in removed][::-1], color="tab:red")
    ax.set_xlabel("records removed")
    ax.set_title("What curation removed, and why")
    fig.tight_layout()
    return fig


def lengths_figure(lengths: list[int], max_length: int | None, unit: str) -> Figure:
    """Histogram of example lengths with the chosen maximum marked."""
    fig = Figure(figsize=(7, 3.2))
    ax = fig.add_subplot()
    ax.hist(lengths, bins=40, color="tab:blue")
    if max_length:
        over = sum(n > max_length for n in lengths)
        ax.axvline(max_length, color="tab:red", linestyle="--", label=f"max_length={max_length} ({over} truncated)")
        ax.legend()
    ax.set_xlabel(f"length ({unit})")
    ax.set_ylabel("examples")
    ax.set_title("Formatted example lengths")
    fig.tight_layout()
    return fig


def counts_figure(counts: dict[str, int], title: str) -> Figure:
    """Bars of examples per product or per intent, sorted."""
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    fig = Figure(figsize=(max(6, 0.16 * len(items) + 2), 3.4))
    ax = fig.add_subplot()
    ax.bar([plain(k) for k, _ in items], [v for _, v in items], color="tab:green")
    ax.tick_params(axis="x", labelrotation=90, labelsize=6)
    ax.set_ylabel("examples")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def save_figures(figures: dict[str, Figure], plots_dir: Path) -> dict[str, Path]:
    """Write each figure as <plots_dir>/<name>.png."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, fig in figures.items():
        out[name] = plots_dir / f"{name}.png"
        fig.savefig(out[name], dpi=110)
    return out
