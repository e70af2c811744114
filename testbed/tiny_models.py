"""Tiny random causal LMs for tests: a byte-level BPE tokenizer trained in a moment on SQL-ish
text and a 2-layer Llama. Real transformers/peft code paths, seconds instead of minutes."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "-- Database: concert\nCREATE TABLE singer (\n  singer_id INTEGER PRIMARY KEY,\n  name TEXT,\n  age INTEGER\n);",
    "-- Question: How many singers are there?\n-- SQL: SELECT count(*) FROM singer;",
    "-- Question: List the names of singers older than 30.\n-- SQL: SELECT name FROM singer WHERE age > 30;",
    "-- Complexity: medium (a join, or GROUP BY)\nSELECT T1.name, count(*) FROM a AS T1 JOIN b AS T2 ON T1.id = T2.id GROUP BY T1.id;",
    "SELECT DISTINCT country FROM singer ORDER BY age DESC LIMIT 1; INTERSECT EXCEPT UNION HAVING avg min max sum",
] * 20


def make_tiny_model(folder: Path, seed: int = 0, vocab_size: int = 400) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    raw = Tokenizer(models.BPE(unk_token=None))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.5,  # large random weights: outputs depend on the seed, not just on the last token
    )
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    return folder


def load_tiny(folder: Path):
    """(model in fp32, eval mode; its tokenizer, padding on the left as generation pads)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.padding_side = "left"
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval(), tokenizer
