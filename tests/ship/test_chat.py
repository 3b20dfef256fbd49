"""The chat box without a kernel: Button.click sends, answers stream into the right pane as text, and each
model keeps its own conversation until 'New conversation'."""
from __future__ import annotations

import threading
import time

import pytest

from helpers.core.examples import system_prompt
from helpers.ship.chat import ALL, ChatBox

SYSTEM = system_prompt("Voltaris Hardware")

PLANT = "<script>window.__pwned=1</script><b>bold</b>"


class FakeModels:
    """Streams a canned answer word by word; remembers what each model was sent."""

    def __init__(self, answers: dict[str, str], gate: threading.Event | None = None):
        self.answers, self.gate, self.seen = answers, gate, []

    def stream(self, name, messages):
        self.seen.append((name, [dict(m) for m in messages]))
        for k, word in enumerate(self.answers[name].split(" ")):
            if self.gate is not None and k == 1:
                self.gate.wait(10)
            yield word if k == 0 else " " + word


def _box(answers=None, gate=None):
    fake = FakeModels(answers or {"base": "I am the base.", "sft": "I am tuned.", "dpo": PLANT}, gate)
    return ChatBox(["base", "sft", "dpo"], fake.stream, SYSTEM), fake


def test_click_sends_the_question_to_the_chosen_model_and_streams_its_answer():
    box, fake = _box()
    box.picker.value = "sft"
    box.question.value = "What is the warranty?"
    box.send_button.click()
    assert box.wait(10) == {"sft": "I am tuned."}
    assert box.question.value == ""
    assert [name for name, _ in fake.seen] == ["sft"]
    assert fake.seen[0][1] == [{"role": "system", "content": SYSTEM},
                               {"role": "user", "content": "What is the warranty?"}]
    assert "I am tuned." in box.panes["sft"].value and "What is the warranty?" in box.panes["sft"].value
    assert "I am tuned." not in box.panes["base"].value


def test_model_text_is_shown_as_text_never_markup():
    box, _ = _box()
    box.picker.value = "dpo"
    box.ask("Say something <i>nice</i>")
    box.wait(10)
    pane = box.panes["dpo"].value
    assert "<script>" not in pane and "<b>bold</b>" not in pane and "<i>nice</i>" not in pane
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in pane


def test_the_pane_grows_while_the_answer_streams():
    gate = threading.Event()
    box, _ = _box({"base": "one two three", "sft": "x", "dpo": "y"}, gate)
    box.picker.value = "base"
    box.ask("count")
    deadline = time.time() + 10
    while "one" not in box.panes["base"].value and time.time() < deadline:
        time.sleep(0.01)
    partial = box.panes["base"].value
    assert "one" in partial and "three" not in partial and box.busy
    assert not box.ask("another") and "Still answering" in box.status.value  # one question at a time
    assert box.send_button.disabled
    gate.set()
    box.wait(10)
    assert "one two three" in box.panes["base"].value and not box.send_button.disabled


def test_all_side_by_side_asks_every_model_and_each_keeps_its_conversation():
    box, fake = _box()
    box.picker.value = ALL
    assert len(box.row.children) == 3
    box.ask("first")
    box.wait(10)
    box.ask("second")
    answers = box.wait(10)
    assert set(answers) == {"base", "sft", "dpo"}
    # the second question reaches each model with its own earlier answer in the history
    sft_history = [m for name, m in fake.seen if name == "sft"][-1]
    assert [t["content"] for t in sft_history[1:]] == ["first", "I am tuned.", "second"]
    box.picker.value = "base"
    assert len(box.row.children) == 1
    box.clear_button.click()
    assert all(len(turns) == 1 for turns in box.history.values())
    assert "No messages yet" in box.panes["sft"].value


def test_an_empty_question_is_not_sent_and_a_failing_model_is_reported():
    def broken(name, messages):
        yield "par"
        raise RuntimeError("out of memory")

    box = ChatBox(["base"], broken)
    assert not box.ask("   ") and "Type a question" in box.status.value
    box.ask("hello")
    box.wait(10)
    assert box.errors == ["base: RuntimeError: out of memory"]
    assert "failed" in box.status.value
    assert box.history["base"] == [], "a failed turn is not kept in the conversation"


def test_needs_at_least_one_model():
    with pytest.raises(ValueError, match="no models"):
        ChatBox([], lambda n, m: iter(()))
