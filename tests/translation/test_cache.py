import json
from pathlib import Path

import pytest

from xltt_plugin.translation.cache import TranslationCache, TranslationCacheError


def test_memory_only_cache() -> None:
    cache = TranslationCache()
    cache.add("m", "ja", [("Moon", "月")])
    assert cache.get("m", "ja", "Moon") == "月"
    assert cache.get("m", "ko", "Moon") is None  # the language is part of the key
    assert cache.get("other", "ja", "Moon") is None  # so is the model
    assert len(cache) == 1


def test_file_is_plain_json_lines_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.jsonl"
    with TranslationCache(str(path)) as cache:
        cache.add("m", "ja", [("Moon", "月"), ("Sea", "海")])
        cache.add("m", "ko", [("Moon", "달")])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"model": "m", "lang": "ja", "text": "Moon", "translation": "月"},
        {"model": "m", "lang": "ja", "text": "Sea", "translation": "海"},
        {"model": "m", "lang": "ko", "text": "Moon", "translation": "달"},
    ]
    reloaded = TranslationCache(str(path))
    assert len(reloaded) == 3
    assert reloaded.get("m", "ko", "Moon") == "달"


def test_each_batch_is_flushed_before_close(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    cache = TranslationCache(str(path))
    cache.add("m", "ja", [("Moon", "月")])
    # Not closed: a crash now must not lose the batch.
    assert TranslationCache(str(path)).get("m", "ja", "Moon") == "月"
    cache.close()


def test_later_line_wins(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    entries = [
        {"model": "m", "lang": "ja", "text": "Moon", "translation": "old"},
        {"model": "m", "lang": "ja", "text": "Moon", "translation": "new"},
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    assert TranslationCache(str(path)).get("m", "ja", "Moon") == "new"


def test_interrupted_last_line_is_dropped_and_appending_continues(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    good = json.dumps({"model": "m", "lang": "ja", "text": "Moon", "translation": "月"})
    path.write_text(good + "\n" + '{"model": "m", "lang": "ja", "te', encoding="utf-8")
    with TranslationCache(str(path)) as cache:
        assert len(cache) == 1
        cache.add("m", "ja", [("Sea", "海")])
    reloaded = TranslationCache(str(path))
    assert reloaded.get("m", "ja", "Sea") == "海"
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text(
        json.dumps({"model": "m", "lang": "ja", "text": "Moon", "translation": "月"}),
        encoding="utf-8",
    )
    with TranslationCache(str(path)) as cache:
        cache.add("m", "ja", [("Sea", "海")])
    assert len(TranslationCache(str(path))) == 2


@pytest.mark.parametrize(
    "bad_line",
    ["not json", json.dumps(["a", "list"]), json.dumps({"model": "m", "lang": "ja", "text": "x"})],
)
def test_malformed_inner_line_is_an_error_naming_file_and_line(
    tmp_path: Path, bad_line: str
) -> None:
    path = tmp_path / "cache.jsonl"
    good = json.dumps({"model": "m", "lang": "ja", "text": "Moon", "translation": "月"})
    path.write_text(good + "\n" + bad_line + "\n" + good + "\n", encoding="utf-8")
    with pytest.raises(TranslationCacheError, match=r"cache\.jsonl: line 2"):
        TranslationCache(str(path))
