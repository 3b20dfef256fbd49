"""A chat box for the run's models (core ipywidgets only): pick base, SFT, DPO or all side by side; answers stream in.

One call opens it, in notebooks 03, 06 and 08::

    chat_box(run, settings)

Each model keeps its own conversation for the session (a "New conversation" button clears them). Answers
stream token by token: ``model.generate`` runs in a thread with transformers' ``TextIteratorStreamer``,
and the widget redraws as pieces arrive. Everything the model writes is HTML-escaped and shown as text:
markup in an answer is displayed, never rendered. Headless (papermill), ``box.ask(question)`` answers a
scripted question in the background and ``box.wait()`` collects it; nothing waits for a person.

CSS classes for browser tests: ``chat-box``, ``chat-model``, ``chat-input``, ``chat-send``, ``chat-clear``,
``chat-status``, ``chat-answer`` and ``chat-answer-<model>``.
"""
from __future__ import annotations

import html
import threading
import time
from contextlib import nullcontext
from typing import Any, Callable, Iterator, Sequence

import ipywidgets as W

from ..core.config import Settings
from ..core.runs import RunDir

ALL = "all side by side"
LABELS = {"base": "base", "sft": "SFT", "dpo": "DPO"}
StreamFn = Callable[[str, list[dict[str, str]]], Iterator[str]]
"""(model name, messages) -> the answer's text pieces as they are generated."""


class ChatModels:
    """The run's models for chatting: one base model in memory, the adapters switched by name, one answer at a time."""

    def __init__(self, run: RunDir, settings: Settings, max_new_tokens: int = 64):
        from ..model.loading import load_adapter, load_from_settings
        from .export import run_adapters

        self.model, self.tokenizer = load_from_settings(settings.model)
        adapters = run_adapters(run)
        self.names = ["base", *adapters]
        self.max_new_tokens = max_new_tokens
        self._lock = threading.Lock()
        for k, (name, folder) in enumerate(adapters.items()):
            if k == 0:
                self.model = load_adapter(self.model, folder, adapter_name=name)
            else:
                self.model.load_adapter(str(folder), adapter_name=name, is_trainable=False)

    def stream(self, name: str, messages: list[dict[str, str]]) -> Iterator[str]:
        """Pieces of model ``name``'s greedy answer to ``messages``, as they are generated."""
        import torch
        from transformers import TextIteratorStreamer

        from ..model.generation import end_of_turn_ids

        if name not in self.names:
            raise ValueError(f"no model '{name}' in this run; choose one of {', '.join(self.names)}")
        with self._lock:
            adapters = len(self.names) > 1
            if adapters and name != "base":
                self.model.set_adapter(name)
            context = self.model.disable_adapter() if adapters and name == "base" else nullcontext()
            with context:
                ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                         return_dict=True)
                streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                                timeout=300)
                device = next(self.model.parameters()).device
                kwargs = {**{k: v.to(device) for k, v in ids.items()}, "streamer": streamer, "do_sample": False,
                          "max_new_tokens": self.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                          "eos_token_id": end_of_turn_ids(self.tokenizer, self.model)}

                def run() -> None:
                    with torch.inference_mode():
                        self.model.generate(**kwargs)

                worker = threading.Thread(target=run, daemon=True)
                worker.start()
                yield from streamer
                worker.join()


def transcript_html(turns: Sequence[dict[str, str]], partial: str | None = None) -> str:
    """A conversation as escaped HTML: every turn shown as text, the answer being generated last."""
    rows = []
    for turn in [t for t in turns if t["role"] != "system"] + ([{"role": "assistant", "content": partial}]
                                                                if partial is not None else []):
        who = "You" if turn["role"] == "user" else "Model"
        rows.append(f'<div class="chat-turn chat-{turn["role"]}"><b>{who}</b>'
                    f'<div class="chat-text" style="white-space: pre-wrap">{html.escape(turn["content"])}</div></div>')
    return "".join(rows) or '<div class="chat-empty"><i>No messages yet.</i></div>'


class ChatBox:
    """The widget: a model picker, one transcript per model, a question box; conversations kept per session."""

    def __init__(self, names: Sequence[str], stream: StreamFn, system: str | None = None):
        if not names:
            raise ValueError("no models to chat with")
        self.names, self._stream, self.system_prompt = list(names), stream, system
        self.history: dict[str, list[dict[str, str]]] = {}
        self._worker: threading.Thread | None = None
        self.errors: list[str] = []
        self._build()
        self.clear()

    def _build(self) -> None:
        self.picker = W.ToggleButtons(options=[(LABELS.get(n, n), n) for n in self.names] + [(ALL, ALL)],
                                      value=self.names[-1], description="Model")
        self.picker.add_class("chat-model")
        self.panes = {name: W.HTML(layout=W.Layout(width="100%", min_height="4em", border="1px solid #ddd",
                                                   padding="4px")) for name in self.names}
        self.columns = {}
        for name, pane in self.panes.items():
            pane.add_class("chat-answer")
            pane.add_class(f"chat-answer-{name}")
            self.columns[name] = W.VBox([W.HTML(f"<b>{html.escape(LABELS.get(name, name))}</b>"), pane],
                                        layout=W.Layout(flex="1 1 0", padding="0 4px"))
        self.row = W.HBox(layout=W.Layout(width="100%"))
        self.question = W.Textarea(placeholder="Ask a question, e.g. What is the warranty of the Quartz Flex "
                                               "(VX-AD-2120)?", layout=W.Layout(width="100%", height="4em"))
        self.question.add_class("chat-input")
        self.send_button = W.Button(description="Send", button_style="primary")
        self.send_button.add_class("chat-send")
        self.send_button.on_click(lambda _b: self.ask(self.question.value))
        self.clear_button = W.Button(description="New conversation")
        self.clear_button.add_class("chat-clear")
        self.clear_button.on_click(lambda _b: self.clear())
        self.status = W.HTML()
        self.status.add_class("chat-status")
        self.picker.observe(lambda _c: self._layout(), names="value")
        self.widget = W.VBox([self.picker, self.row, self.question, W.HBox([self.send_button, self.clear_button]),
                              self.status])
        self.widget.add_class("chat-box")
        self._layout()

    def _layout(self) -> None:
        """Show the chosen model's transcript, or every model's side by side."""
        shown = self.names if self.picker.value == ALL else [self.picker.value]
        self.row.children = [self.columns[n] for n in shown]

    @property
    def targets(self) -> list[str]:
        """The models the next question goes to."""
        return list(self.names) if self.picker.value == ALL else [self.picker.value]

    @property
    def busy(self) -> bool:
        """Whether an answer is being generated."""
        return self._worker is not None and self._worker.is_alive()

    def clear(self) -> None:
        """Start a new conversation with every model."""
        if self.busy:
            self.status.value = "Wait for the answer to finish before starting a new conversation."
            return
        opening = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        self.history = {n: list(opening) for n in self.names}
        for name in self.names:
            self.panes[name].value = transcript_html(self.history[name])
        self.status.value = ""

    def ask(self, question: str) -> bool:
        """Send ``question`` to the chosen model(s); answers stream in a background thread. False if not sent."""
        question = (question or "").strip()
        if not question:
            self.status.value = "Type a question first."
            return False
        if self.busy:
            self.status.value = "Still answering the last question."
            return False
        self.question.value = ""
        self.send_button.disabled = True
        self._worker = threading.Thread(target=self._answer_all, args=(question, self.targets), daemon=True)
        self._worker.start()
        return True

    def _answer_all(self, question: str, targets: list[str]) -> None:
        """Answer ``question`` with each target model in turn, streaming into its pane."""
        try:
            for name in targets:
                turns = self.history[name]
                turns.append({"role": "user", "content": question})
                self.status.value = html.escape(f"{LABELS.get(name, name)} is answering...")
                start, pieces = time.perf_counter(), []
                try:
                    for piece in self._stream(name, list(turns)):
                        pieces.append(piece)
                        self.panes[name].value = transcript_html(turns, "".join(pieces))
                except Exception as exc:  # shown in the box and kept, never lost in a thread
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    turns.pop()
                    self.status.value = html.escape(f"{name} failed: {exc}")
                    continue
                turns.append({"role": "assistant", "content": "".join(pieces).strip()})
                self.panes[name].value = transcript_html(turns)
                self.status.value = html.escape(f"{LABELS.get(name, name)} answered in "
                                                f"{time.perf_counter() - start:.1f} s.")
        finally:
            self.send_button.disabled = False

    def wait(self, timeout: float = 300.0) -> dict[str, str]:
        """Wait for the answer being generated; the last answer of each model (for scripts and tests)."""
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                raise TimeoutError(f"no answer within {timeout:.0f} s")
        return {n: t[-1]["content"] for n, t in self.history.items() if t and t[-1]["role"] == "assistant"}

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def chat_box(run: RunDir, settings: Settings, max_new_tokens: int | None = None) -> ChatBox:
    """Open the chat box on the run's models (base, and SFT / DPO when their adapters exist).

    Answers are capped at ``max_new_tokens``, by default the evaluation's cap (``settings.eval.max_new_tokens``).
    """
    models = ChatModels(run, settings, max_new_tokens or settings.eval.max_new_tokens)
    return ChatBox(models.names, models.stream)  # no system message: the course's examples carry none


__all__ = ["ALL", "ChatBox", "ChatModels", "chat_box", "transcript_html"]
