"""
The scored ceiling on real data with XLM-R's real tokenizer, pinned per language: what
`allennlp xltt-check-data` reports (each gold token span decoded as prediction decodes it,
scored under the language's rules), with the reader's default settings (384 / 128 / 64).

A change to the reader, the offsets or the decoding that moves a figure fails here; one that
raises it updates the pin (and the README's check-data table). Every file is read whole: the
12 XQuAD files and the CMRC2018/DRCD dev sets (twice) take about 45 s of CPU together.
"""

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from tests import SHARED_DATA
from xltt_plugin.commands.check_data import check_file
from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

SHARED = Path(SHARED_DATA)
XLMR_VOCABULARY = 250_002

# file -> (ceiling_em, ceiling_f1, answer_decoded_exact, scored_questions)
XQUAD = {
    "xquad.ar.json": (99.75, 99.92, 1185, 1190),
    "xquad.de.json": (99.92, 99.92, 1183, 1190),
    "xquad.el.json": (99.92, 99.98, 1188, 1190),
    "xquad.en.json": (99.92, 99.98, 1186, 1190),
    "xquad.es.json": (99.92, 99.99, 1188, 1190),
    "xquad.hi.json": (99.83, 99.89, 1188, 1190),
    "xquad.ro.json": (100.0, 100.0, 1190, 1190),
    "xquad.ru.json": (100.0, 100.0, 1189, 1190),
    "xquad.th.json": (99.16, 99.95, 1180, 1190),
    "xquad.tr.json": (99.83, 99.94, 1186, 1190),
    "xquad.vi.json": (99.92, 99.98, 1188, 1190),
    "xquad.zh.json": (99.66, 99.95, 1186, 1190),
}
# Chinese: (default reader, reader with split_cjk_pieces).
CHINESE = {
    "cmrc2018/cmrc2018_dev.json": ((97.02, 99.68, 3112, 3219), (99.97, 99.98, 3213, 3219)),
    "drcd/DRCD_dev.json": ((97.3, 99.56, 3424, 3524), (99.91, 99.95, 3517, 3524)),
    "xquad/xquad.zh.json": ((99.66, 99.95, 1186, 1190), (100.0, 100.0, 1190, 1190)),
}


def figures(report: dict) -> tuple[float, float, int, int]:
    return (
        report["ceiling_em"],
        report["ceiling_f1"],
        report["answer_decoded_exact"],
        report["scored_questions"],
    )


@pytest.fixture(scope="module")
def xlmr(real_tokenizer: str) -> str:
    if len(AutoTokenizer.from_pretrained(real_tokenizer)) != XLMR_VOCABULARY:
        pytest.skip(f"the pins are for XLM-R's {XLMR_VOCABULARY}-piece tokenizer")
    return real_tokenizer


def shared_file(relative: str) -> str:
    path = SHARED / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent (the real data lives in ../shared/data)")
    return str(path)


def test_xquad_ceiling_per_language(xlmr: str) -> None:
    reader = XlttSquadReader(xlmr)
    found = {name: figures(check_file(reader, shared_file(f"xquad/{name}"))) for name in XQUAD}
    assert found == XQUAD
    # The goal of 99.5 EM is met everywhere but Thai (see the README's check-data section).
    assert [name for name, pin in found.items() if pin[0] < 99.5] == ["xquad.th.json"]


@pytest.mark.parametrize("relative", sorted(CHINESE))
def test_chinese_ceiling_with_and_without_split_cjk_pieces(xlmr: str, relative: str) -> None:
    path = shared_file(relative)
    default = figures(check_file(XlttSquadReader(xlmr, language="zh"), path))
    split = figures(check_file(XlttSquadReader(xlmr, language="zh", split_cjk_pieces=True), path))
    assert (default, split) == CHINESE[relative]
    assert split[0] >= 99.5


def test_trimming_changes_text_not_score(xlmr: str) -> None:
    """On English: trimming makes 33 more decoded spans equal the gold text, EM/F1 unchanged."""
    path = shared_file("xquad/xquad.en.json")
    reader = XlttSquadReader(xlmr)
    trimmed, raw = check_file(reader, path), check_file(reader, path, trim=False)
    assert (raw["ceiling_em"], raw["ceiling_f1"]) == (trimmed["ceiling_em"], trimmed["ceiling_f1"])
    assert trimmed["answer_decoded_exact"] - raw["answer_decoded_exact"] == 33
