"""
Build `fixtures/tiny-xlmr/`: an XLM-R-style Hugging Face folder for tests and the demo.

- Tokenizer: a SentencePiece-style Unigram model trained with the `tokenizers` library
  (Metaspace pre-tokenizer, NFKC normaliser, special tokens `<s> <pad> </s> <unk> <mask>` with
  ids 0-4 like XLM-R), trained on the seed sentences below plus every question, context and
  answer of the SQuAD-format files under `fixtures/data/`, with an initial alphabet covering
  Latin (incl. Vietnamese), Greek, Cyrillic, Arabic, Devanagari, Thai, kana, hangul and CJK text.
- Model: a randomly initialised `XLMRobertaModel` (hidden 32, 2 layers) saved as safetensors.

Deterministic: the same inputs give byte-identical files (single-threaded training, fixed seed).

    .venv/bin/python scripts/build_tiny_xlmr.py [--out fixtures/tiny-xlmr]
"""

import argparse
import glob
import json
import math
import os
from collections import Counter

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB_SIZE = 3000
REQUIRED_PIECES = ["▁a", "▁b", "▁1", "▁2"]

# Short original sentences in every script the plugin meets, so each gets multi-char pieces.
SEED_TEXT = [
    "a b 1 2 a b 1 2 The answer is a number: 1, 2, 10, 12, 100, 1999, 2024.",
    "Who wrote the book? When was the bridge built? Where is the river? How many people live there?",
    "The city lies on the river and was founded in the twelfth century by merchants.",
    "Wer hat das Buch geschrieben? Die Stadt liegt am Fluss und wurde im Jahr 1200 gegründet.",
    "¿Quién escribió el libro? La ciudad está junto al río y fue fundada en el siglo XII.",
    "Ai đã viết cuốn sách? Thành phố nằm bên bờ sông và được thành lập vào thế kỷ mười hai.",
    "Ποιος έγραψε το βιβλίο; Η πόλη βρίσκεται δίπλα στο ποτάμι.",
    "Кто написал книгу? Город стоит на реке и был основан в двенадцатом веке.",
    "Kitabı kim yazdı? Şehir nehrin kenarında yer alır. Cine a scris cartea? Orașul se află pe râu.",
    "من كتب الكتاب؟ تقع المدينة على النهر وتأسست في القرن الثاني عشر.",
    "किताब किसने लिखी? शहर नदी के किनारे है और बारहवीं सदी में बसाया गया था।",
    "ใครเขียนหนังสือเล่มนี้ เมืองนี้ตั้งอยู่ริมแม่น้ำและก่อตั้งขึ้นในศตวรรษที่สิบสอง",
    "誰がその本を書きましたか。町は川のそばにあり、十二世紀に商人によって作られました。",
    "누가 그 책을 썼습니까? 그 도시는 강가에 있으며 12세기에 상인들이 세웠습니다.",
    "谁写了这本书？这座城市位于河边，建于十二世纪。誰寫了這本書？這座城市位於河邊。",
]

# Frequent Chinese characters (simplified and traditional) and hangul syllables, so that text
# outside the fixtures mostly maps to real pieces rather than <unk>.
COMMON_HANZI = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后"
    "能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分"
    "此心前面又定见只主没公从知使全两长现部名文机场员位数本问北西东南高手开动业重新回门产工市"
    "第最理间比意实体化力水加物老外做因加山三四五六七八九百千万亿元月周期河城省县区路电话书记"
    "這個們來說國時會對後過還發動經當開與裡點樣麼應為實現問題學間義關係體處於從兩長聲種無與"
    "北京上海广东香港台湾中华人民共和国大学历史政府公司科学技术世界文化语言首都位于建立成立"
    "創設計劃區縣淀設施際際邊線選舉總統藝術傳統醫療環境運營"
)
COMMON_HANGUL = (
    "이가는을를에의다고하서한와과도로으지기사리자수시대인정아나그것들있습니까었였세웠강도시책"
    "누구언제어디무엇왜어떻게년월일년대한민국서울부산사람학교회사정부역사문화언어세계"
)


def _alphabet() -> list[str]:
    ranges = [
        (0x21, 0x7E),  # ASCII
        (0xC0, 0x17F),  # Latin-1 letters, Latin Extended-A
        (0x1A0, 0x1B0),  # Vietnamese horn letters
        (0x1EA0, 0x1EF9),  # Vietnamese
        (0x218, 0x21B),  # Romanian comma-below letters
        (0x386, 0x3CE),  # Greek (with tonos)
        (0x401, 0x451),  # Cyrillic
        (0x60C, 0x60C),
        (0x61F, 0x652),  # Arabic letters and harakat
        (0x660, 0x669),  # Arabic-Indic digits
        (0x900, 0x97F),  # Devanagari
        (0xE01, 0xE5B),  # Thai
        (0x2010, 0x2027),  # general punctuation (dashes, quotes, ellipsis)
        (0x3000, 0x3011),  # CJK punctuation
        (0x3041, 0x3096),  # Hiragana
        (0x30A1, 0x30FC),  # Katakana
        (0xFF01, 0xFF1F),  # fullwidth punctuation
    ]
    chars = {chr(c) for lo, hi in ranges for c in range(lo, hi + 1)}
    chars.update(COMMON_HANZI)
    chars.update(COMMON_HANGUL)
    return sorted(c for c in chars if c.isprintable() and not c.isspace())


def _fixture_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(
        glob.glob(os.path.join(REPO, "fixtures", "data", "**", "*.json"), recursive=True)
    ):
        with open(path, encoding="utf-8") as handle:
            dataset = json.load(handle)
        for article in dataset.get("data", []):
            for paragraph in article.get("paragraphs", []):
                texts.append(paragraph["context"])
                for qa in paragraph.get("qas", []):
                    texts.append(qa["question"])
                    texts.extend(answer["text"] for answer in qa.get("answers", []))
    return texts


def _canonical(backend: "object", num_special: int, char_counts: Counter[str]) -> "object":
    """
    The Unigram trainer iterates Rust hash maps (randomly seeded per process): multi-character
    scores differ in the last float digits, and single-character scores and the order of
    equal-score pieces vary from run to run. Make the file reproducible byte for byte: round
    multi-character scores, give every single character its smoothed corpus log-frequency
    (alphabet characters absent from the corpus get the floor), and order pieces by
    (score desc, piece) after the special tokens.
    """
    from tokenizers import Tokenizer

    spec = json.loads(backend.to_str())  # type: ignore[attr-defined]
    vocab = spec["model"]["vocab"]
    head, rest = vocab[:num_special], vocab[num_special:]
    denominator = sum(char_counts.values()) + len(rest)
    rescored = [
        [
            piece,
            round(score if len(piece) > 1 else math.log((char_counts[piece] + 1) / denominator), 5),
        ]
        for piece, score in rest
    ]
    # AllenNLP's PretrainedTransformerTokenizer asserts that "a", "b", "1", "2" are single
    # pieces: make each "▁x" outscore its split "▁" + "x".
    scores = {piece: score for piece, score in rescored}
    for piece in REQUIRED_PIECES:
        split = scores["▁"] + scores[piece[1:]]
        scores[piece] = round(max(scores[piece], split + 1.0), 5)
    rescored = [[piece, scores[piece]] for piece, _ in rescored]
    spec["model"]["vocab"] = head + sorted(rescored, key=lambda x: (-x[1], x[0]))
    spec["model"]["unk_id"] = [piece for piece, _ in head].index("<unk>")
    return Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))


def build_tokenizer(out_dir: str) -> "object":
    from tokenizers import AddedToken, Regex, SentencePieceUnigramTokenizer, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import XLMRobertaTokenizerFast

    corpus = SEED_TEXT * 3 + _fixture_texts()
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    spm = SentencePieceUnigramTokenizer()
    # Keep digit runs apart from neighbouring punctuation/CJK ("。1969" must not become a piece
    # "。19"), as real XLM-R does; `Digits` would split "12" and break AllenNLP's "1"/"2" check.
    spm._tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [spm._tokenizer.pre_tokenizer, pre_tokenizers.Split(Regex("▁?[0-9]+"), "isolated")]
    )
    spm.train_from_iterator(
        corpus,
        vocab_size=VOCAB_SIZE,
        special_tokens=special,
        initial_alphabet=_alphabet(),
        unk_token="<unk>",
        show_progress=False,
    )
    char_counts = Counter(char for text in corpus for char in text.replace(" ", "▁"))
    backend = _canonical(spm._tokenizer, num_special=len(special), char_counts=char_counts)
    backend.post_processor = TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tokenizer = XLMRobertaTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token=AddedToken("<mask>", lstrip=True, rstrip=False),
        model_max_length=512,
    )
    for token, index in zip(special, range(5)):
        assert tokenizer.convert_tokens_to_ids(token) == index, (token, index)
    tokenizer.save_pretrained(out_dir)
    return tokenizer


def build_model(out_dir: str, vocab_size: int) -> None:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(13)
    config = XLMRobertaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    model = XLMRobertaModel(config)
    model.save_pretrained(out_dir, safe_serialization=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO, "fixtures", "tiny-xlmr"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tokenizer = build_tokenizer(args.out)
    build_model(args.out, len(tokenizer))  # type: ignore[arg-type]
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"wrote {args.out}: vocab {len(tokenizer)}, {total / 1024:.0f} KiB")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
