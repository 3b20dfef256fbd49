"""The one instruction format shared by both tasks (product questions and ticket routing).

Every curated example is a JSON object, one per line in ``runs/<name>/data/{train,val,feedback,test}.jsonl``:

```
{"id": "qa-00042", "task": "product_qa" | "routing",
 "messages": [{"role": "user", "content": "..."},
              {"role": "assistant", "content": "..."}],
 "meta": {"product": "<model code>" | null, "category": "<catalog category>" | null,
          "fields": {"<spec field>": <catalog value>, ...},  # facts the reference answer states
          "intent": "<bitext intent>" | null,
          "group": "<id shared by near-duplicates and phrasings of one fact>",
          "source": "catalog" | "ticket" | "bitext", "phrasing": "<template id>"}}
```

Examples carry no system message: fine-tuning teaches the behaviour (exact specs, 'Intent: <intent>' for tickets),
and a system turn in every example was a quarter of the training tokens (measured in the README's lever table).
Records with a system message (a practitioner's own data) still work: it is a turn like any other.
"""
from __future__ import annotations

import re
from typing import Any


def system_prompt(vendor: str) -> str:
    """The assistant's role in one sentence, 'You are the support assistant of <vendor>.': the prompted baseline's
    system message starts with it (training examples carry none)."""
    return f"You are the support assistant of {vendor or 'the vendor'}."


TASKS = ("product_qa", "routing")
ROUTING_INSTRUCTION = "Route this support ticket to an intent:\n"
_INTENT = re.compile(r"intent\s*[:=]\s*([a-z_]+)", re.IGNORECASE)


def routing_answer(intent: str) -> str:
    """The assistant's reply for a routing example."""
    return f"Intent: {intent}"


def parse_intent(answer: str, labels: set[str] | None = None) -> str | None:
    """The intent named in an answer, or None when it names no (known) intent."""
    match = _INTENT.search(answer or "")
    if not match:
        return None
    intent = match.group(1).lower()
    return intent if labels is None or intent in labels else None


def prompt_messages(example: dict[str, Any]) -> list[dict[str, str]]:
    """The example's messages without the assistant's reply (what the model is asked)."""
    return [m for m in example["messages"] if m["role"] != "assistant"]


def reference_answer(example: dict[str, Any]) -> str:
    """The assistant's reference reply of an example."""
    return next(m["content"] for m in example["messages"] if m["role"] == "assistant")


def question(example: dict[str, Any]) -> str:
    """The user's message of an example."""
    return next(m["content"] for m in example["messages"] if m["role"] == "user")
