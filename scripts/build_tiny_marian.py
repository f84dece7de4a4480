"""
Build `fixtures/tiny-marian/`: a tiny, randomly initialised MarianMT model and tokenizer for
plumbing tests of the `hf_seq2seq` translator and `allennlp xltt-translate` (its output is
gibberish: it is never used to judge translation quality).

- Tokenizer: a SentencePiece unigram model (identity normalisation, so no normalisation table
  is stored) trained with the `sentencepiece` package on every question, context and answer of
  `fixtures/data/parallel/squad_en.json`, with the default span markers `<a>` and `</a>` as
  user-defined pieces; the same model serves as `source.spm` and `target.spm` (a shared vocab,
  as in the OPUS-MT models). `vocab.json` maps `</s>`=0, `<unk>`=1, the pieces, `<pad>`=last,
  the Marian convention.
- Model: `MarianMTModel` with d_model 16, one encoder and one decoder layer, two heads, seeded
  random weights, saved as safetensors (with `generation_config.json`).

Deterministic: the same inputs give byte-identical files (one training thread, no input
shuffling, fixed seeds; checked by building twice and comparing checksums). About 75 KB.

    .venv/bin/python scripts/build_tiny_marian.py [--out fixtures/tiny-marian]
"""

import argparse
import io
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "fixtures", "tiny-marian")
SOURCE = os.path.join(REPO, "fixtures", "data", "parallel", "squad_en.json")
VOCAB_SIZE = 400
MARKERS = ["<a>", "</a>"]


def _fixture_texts() -> list[str]:
    with open(SOURCE, encoding="utf-8") as handle:
        dataset = json.load(handle)
    texts: list[str] = []
    for article in dataset["data"]:
        for paragraph in article["paragraphs"]:
            texts.append(paragraph["context"])
            for qa in paragraph["qas"]:
                texts.append(qa["question"])
                texts.extend(answer["text"] for answer in qa["answers"])
    return texts


def build_tokenizer(out_dir: str) -> int:
    """Train the SentencePiece model, write the tokenizer files; return the vocabulary size."""
    import sentencepiece as spm
    from transformers import MarianTokenizer

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_fixture_texts()),
        model_writer=model,
        model_type="unigram",
        vocab_size=VOCAB_SIZE,
        character_coverage=1.0,
        normalization_rule_name="identity",
        user_defined_symbols=MARKERS,
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        num_threads=1,
        shuffle_input_sentence=False,
        seed_sentencepiece_size=100000,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in pieces:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    os.makedirs(out_dir, exist_ok=True)
    for name in ("source.spm", "target.spm"):
        with open(os.path.join(out_dir, name), "wb") as handle:
            handle.write(model.getvalue())
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as handle:
        json.dump(vocab, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    tokenizer = MarianTokenizer(
        os.path.join(out_dir, "source.spm"),
        os.path.join(out_dir, "target.spm"),
        os.path.join(out_dir, "vocab.json"),
        source_lang="en",
        target_lang="xx",
        model_max_length=512,
    )
    tokenizer.save_pretrained(out_dir)
    return len(vocab)


def build_model(out_dir: str, vocab_size: int) -> None:
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    torch.manual_seed(17)
    pad = vocab_size - 1
    config = MarianConfig(
        vocab_size=vocab_size,
        decoder_vocab_size=vocab_size,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=512,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=None,  # kept in generation_config.json
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
    )
    model = MarianMTModel(config)
    model.generation_config = GenerationConfig(
        bos_token_id=0,
        decoder_start_token_id=pad,
        eos_token_id=0,
        forced_eos_token_id=0,
        pad_token_id=pad,
        max_length=64,
        num_beams=1,
        bad_words_ids=[[pad]],
    )
    model.save_pretrained(out_dir, safe_serialization=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args()
    vocab_size = build_tokenizer(args.out)
    build_model(args.out, vocab_size)
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"wrote {args.out} ({total} bytes)")


if __name__ == "__main__":
    main()
