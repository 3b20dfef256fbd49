"""Shipping the specialist (notebook 08): chat box, model cards, export (merged, GGUF), serving, load test, pilot log.

```
runs/<name>/ship/
  adapter/            the shipped adapter with its model card (README.md)
  merged/             the adapter merged into the weights it was trained on: safetensors + tokenizer + README.md
  *.gguf, Modelfile   8-bit and 4-bit GGUF files for llama.cpp / Ollama
  serve_load.json     the load test of the local OpenAI-compatible endpoint
  pilot_log.jsonl     every served conversation, redacted, with the model version
  next_round.jsonl    reviewed corrections as new training examples (notebook 01's format)
```
"""
from .chat import ChatBox, chat_box
from .export import Specialist, ship_dir, specialist
from .judge import Verdict, judge

__all__ = ["ChatBox", "Specialist", "Verdict", "chat_box", "judge", "ship_dir", "specialist"]
