"""Examples to token ids through the model's chat template, with the loss on the assistant turn only."""
from __future__ import annotations

from typing import Any

from ..core.examples import prompt_messages

IGNORE = -100  # label value that PyTorch's cross-entropy skips


class FormattingError(ValueError):
    """An example cannot be formatted for training; the message names the example."""


def _ids(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> list[int]:
    """Token ids of messages rendered by the chat template."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode_example(tokenizer: Any, example: dict[str, Any], max_length: int) -> dict[str, list[int]]:
    """input_ids, attention_mask and labels (-100 outside the assistant reply), cut to max_length."""
    prompt = _ids(tokenizer, prompt_messages(example), generation_prompt=True)
    full = _ids(tokenizer, example["messages"], generation_prompt=False)
    if full[:len(prompt)] != prompt:
        raise FormattingError(f"example {example.get('id')}: the chat template does not render the prompt as a "
                              "prefix of the conversation, so the assistant turn cannot be located")
    full = full[:max_length]
    labels = [IGNORE] * min(len(prompt), len(full)) + full[len(prompt):]
    return {"input_ids": full, "attention_mask": [1] * len(full), "labels": labels}


def trained_token_count(encoded: dict[str, list[int]]) -> int:
    """How many tokens of an encoded example carry loss."""
    return sum(1 for label in encoded["labels"] if label != IGNORE)


def check_encoded(tokenizer: Any, examples: list[dict[str, Any]], encoded: list[dict[str, list[int]]]) -> None:
    """Fail loudly on mistakes that otherwise train silently: no target tokens, or no end-of-turn token."""
    eos = tokenizer.eos_token_id
    for example, enc in zip(examples, encoded):
        targets = [t for t in enc["labels"] if t != IGNORE]
        if not targets:
            raise FormattingError(f"example {example.get('id')}: no token carries loss (the reply was cut off "
                                  "by data.max_length or is empty); raise max_length or drop the example")
        if eos not in targets:
            raise FormattingError(f"example {example.get('id')}: the assistant reply does not end with the "
                                  f"end-of-turn token {tokenizer.eos_token!r}; the model would never learn to stop. "
                                  "Raise data.max_length so the reply fits.")


def show_masking(tokenizer: Any, encoded: dict[str, list[int]]) -> str:
    """The decoded example with the trained part in [[...]] and the masked (context) part as is."""
    out, current, trained = [], [], False
    for token, label in zip(encoded["input_ids"], encoded["labels"]):
        is_trained = label != IGNORE
        if is_trained != trained and current:
            text = tokenizer.decode(current)
            out.append(f"[[{text}]]" if trained else text)
            current = []
        current.append(token)
        trained = is_trained
    if current:
        text = tokenizer.decode(current)
        out.append(f"[[{text}]]" if trained else text)
    return "".join(out)
