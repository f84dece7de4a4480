"""
A cache of tokenised instances (JSON + safetensors, never pickle) and the `xltt_cached`
dataset reader that reads through it.

The first read of a file runs the wrapped reader and writes two files named by a hash of the
reader's settings and of the data files' sizes and modification times: `KEY.safetensors`
(every token id, type id and context offset as flat integer arrays) and `KEY.json` (per
instance, how to rebuild each field, plus the metadata strings). Later reads rebuild the
instances from them without tokenising, with `CachedTextField`s that index to exactly the
tensors the original `TextField`s give.
"""

import hashlib
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Optional

import numpy
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.fields import (
    Field,
    IndexField,
    ListField,
    MetadataField,
    SpanField,
    TensorField,
    TextField,
)
from allennlp.data.instance import Instance
from allennlp.data.token_indexers import PretrainedTransformerIndexer
from allennlp.data.tokenizers import Token
from allennlp.data.vocabulary import Vocabulary
from safetensors.numpy import load_file, save_file

logger = logging.getLogger(__name__)

CACHE_FORMAT = "xltt-instance-cache"
CACHE_VERSION = 1
_OFFSETS_KEY = "token_offsets"
# Metadata strings at least this long are stored once in a string table (contexts, questions).
_SHARED_STRING_LENGTH = 32


class CachedTextField(TextField):
    """
    A `TextField` rebuilt from a cache: it holds the word-piece ids and type ids instead of
    `Token`s and indexes them as `PretrainedTransformerIndexer.tokens_to_indices` would
    (same vocabulary side effect, same tensors). `tokens` builds `Token`s with `text_id` and
    `type_id` (no text) on first use.
    """

    __slots__ = ["_built_tokens", "_ids", "_type_ids"]

    def __init__(self, ids: numpy.ndarray, type_ids: numpy.ndarray, token_indexers: Any = None):
        self._ids = ids
        self._type_ids = type_ids
        self._built_tokens: Optional[list[Token]] = None
        self._token_indexers = token_indexers
        self._indexed_tokens = None

    @property
    def tokens(self) -> list[Token]:
        if self._built_tokens is None:
            self._built_tokens = [
                Token(text_id=int(i), type_id=int(t))
                for i, t in zip(self._ids.tolist(), self._type_ids.tolist())
            ]
        return self._built_tokens

    @tokens.setter
    def tokens(self, tokens: list[Token]) -> None:
        self._built_tokens = list(tokens)
        self._ids = numpy.asarray([t.text_id for t in tokens], dtype=numpy.int64)
        self._type_ids = numpy.asarray([t.type_id or 0 for t in tokens], dtype=numpy.int64)
        self._indexed_tokens = None

    def sequence_length(self) -> int:
        return len(self._ids)

    def index(self, vocab: Vocabulary) -> None:
        ids = self._ids.tolist()
        type_ids = self._type_ids.tolist()
        self._indexed_tokens = {}
        for name, indexer in self.token_indexers.items():
            if isinstance(indexer, PretrainedTransformerIndexer):
                indexer._add_encoding_to_vocabulary_if_needed(vocab)
                output = {"token_ids": ids, "mask": [True] * len(ids), "type_ids": type_ids}
                self._indexed_tokens[name] = indexer._postprocess_output(output)
            else:
                self._indexed_tokens[name] = indexer.tokens_to_indices(self.tokens, vocab)

    def duplicate(self) -> "CachedTextField":
        copy = CachedTextField(self._ids.copy(), self._type_ids.copy(), self._token_indexers)
        if self._indexed_tokens is not None:
            copy._indexed_tokens = json.loads(json.dumps(self._indexed_tokens))
        return copy


class OffsetList(Sequence):
    """
    Read-only `List[Optional[Tuple[int, int]]]` view of cached token offsets: item `i` is
    `(start, end)`, or `None` where the cache holds (-1, -1). Compares equal to the list it
    was made from.
    """

    __slots__ = ["_array"]

    def __init__(self, array: numpy.ndarray) -> None:
        # shape: (num_tokens, 2)
        self._array = array

    def __len__(self) -> int:
        return len(self._array)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._item(row) for row in self._array[index].tolist()]
        return self._item(self._array[index].tolist())

    @staticmethod
    def _item(row: list[int]) -> Optional[tuple[int, int]]:
        return None if row[0] < 0 else (row[0], row[1])

    def tolist(self) -> list[Optional[tuple[int, int]]]:
        return [self._item(row) for row in self._array.tolist()]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OffsetList):
            return numpy.array_equal(self._array, other._array)
        if isinstance(other, Sequence):
            return self.tolist() == [None if o is None else tuple(o) for o in other]
        return NotImplemented

    def __repr__(self) -> str:
        return f"OffsetList({self.tolist()!r})"


# ------------------------------------------------------------------------------------ writing


class _Writer:
    """Accumulates the flat arrays, the string table and the per-instance recipes."""

    def __init__(self, file_path: str) -> None:
        self.file_path = file_path
        self.ids: list[int] = []
        self.type_ids: list[int] = []
        self.offsets: list[int] = []
        self.strings: list[str] = []
        self.string_index: dict[str, int] = {}
        self.recipes: list[dict[str, Any]] = []

    def add(self, instance: Instance) -> None:
        paths: dict[int, str] = {}
        recipe: dict[str, Any] = {}
        for name, field in instance.fields.items():
            self._collect_text_paths(name, field, paths)
        for name, field in instance.fields.items():
            recipe[name] = self._field(name, field, paths)
        self.recipes.append(recipe)

    def _collect_text_paths(self, path: str, field: Field, paths: dict[int, str]) -> None:
        if isinstance(field, TextField):
            paths[id(field)] = path
        elif isinstance(field, ListField):
            for index, item in enumerate(field.field_list):
                self._collect_text_paths(f"{path}.{index}", item, paths)

    def _field(self, path: str, field: Field, paths: dict[int, str]) -> dict[str, Any]:
        if isinstance(field, TextField):
            start = len(self.ids)
            for token in field.tokens:
                if token.text_id is None:
                    raise ConfigurationError(
                        f"{self.file_path}: xltt_cached can only cache word pieces with ids; "
                        f"field {path!r} has token {token.text!r} without one"
                    )
                self.ids.append(token.text_id)
                self.type_ids.append(token.type_id or 0)
            return {"type": "text", "start": start, "length": len(field.tokens)}
        if isinstance(field, SpanField):
            return {
                "type": "span",
                "start": field.span_start,
                "end": field.span_end,
                "of": self._sequence_path(path, field.sequence_field, paths),
            }
        if isinstance(field, IndexField):
            return {
                "type": "index",
                "index": field.sequence_index,
                "of": self._sequence_path(path, field.sequence_field, paths),
            }
        if isinstance(field, TensorField):
            return {
                "type": "tensor",
                "values": field.tensor.tolist(),
                "dtype": str(field.tensor.dtype).removeprefix("torch."),
                "padding_value": field.padding_value,
            }
        if isinstance(field, ListField):
            return {
                "type": "list",
                "items": [
                    self._field(f"{path}.{index}", item, paths)
                    for index, item in enumerate(field.field_list)
                ],
            }
        if isinstance(field, MetadataField):
            return {"type": "metadata", "value": self._metadata(path, field.metadata)}
        raise ConfigurationError(
            f"{self.file_path}: xltt_cached cannot cache field {path!r} of type "
            f"{type(field).__name__}"
        )

    def _sequence_path(self, path: str, field: Any, paths: dict[int, str]) -> str:
        if id(field) not in paths:
            raise ConfigurationError(
                f"{self.file_path}: field {path!r} points into a sequence that is not a field "
                "of the same instance; xltt_cached cannot cache it"
            )
        return paths[id(field)]

    def _metadata(self, path: str, value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ConfigurationError(
                        f"{self.file_path}: metadata of {path!r} has a non-string key {key!r}"
                    )
                if key == _OFFSETS_KEY and isinstance(item, Sequence):
                    out[key] = {"__offsets__": self._offsets(item)}
                else:
                    out[key] = self._metadata(f"{path}.{key}", item)
            return out
        if isinstance(value, (list, tuple)):
            return [self._metadata(path, item) for item in value]
        if isinstance(value, str):
            if len(value) < _SHARED_STRING_LENGTH:
                return value
            index = self.string_index.get(value)
            if index is None:
                index = self.string_index[value] = len(self.strings)
                self.strings.append(value)
            return {"__string__": index}
        if value is None or isinstance(value, (bool, int, float)):
            return value
        raise ConfigurationError(
            f"{self.file_path}: metadata {path!r} holds a {type(value).__name__}, which "
            "xltt_cached cannot store as JSON"
        )

    def _offsets(self, offsets: Sequence[Any]) -> list[int]:
        start = len(self.offsets) // 2
        for offset in offsets:
            if offset is None:
                self.offsets.extend((-1, -1))
            else:
                self.offsets.extend((int(offset[0]), int(offset[1])))
        return [start, len(offsets)]

    def save(self, directory: str, key: str, description: dict[str, Any]) -> None:
        os.makedirs(directory, exist_ok=True)
        stamp = secrets.token_hex(8)
        arrays = {
            "ids": numpy.asarray(self.ids, dtype=numpy.int64),
            "type_ids": numpy.asarray(self.type_ids, dtype=numpy.int64),
            "offsets": numpy.asarray(self.offsets, dtype=numpy.int64).reshape(-1, 2),
        }
        document = {
            "format": CACHE_FORMAT,
            "version": CACHE_VERSION,
            "stamp": stamp,
            "source": description,
            "strings": self.strings,
            "instances": self.recipes,
        }
        arrays_path, json_path = _paths(directory, key)
        # Arrays first, the JSON (which names the arrays' stamp) last: a reader that finds the
        # JSON finds matching arrays. Each file is renamed into place whole.
        _atomic_write(arrays_path, lambda tmp: save_file(arrays, tmp, metadata={"stamp": stamp}))
        _atomic_write(
            json_path,
            lambda tmp: _write_text(tmp, json.dumps(document, ensure_ascii=False)),
        )


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


def _atomic_write(path: str, write: Any) -> None:
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _paths(directory: str, key: str) -> tuple[str, str]:
    return os.path.join(directory, f"{key}.safetensors"), os.path.join(directory, f"{key}.json")


# ------------------------------------------------------------------------------------ reading


def load_instances(directory: str, key: str) -> Optional[list[Instance]]:
    """The cached instances under `key`, or `None` when there is no complete cache for it."""
    arrays_path, json_path = _paths(directory, key)
    if not (os.path.isfile(arrays_path) and os.path.isfile(json_path)):
        return None
    with open(json_path, encoding="utf-8") as file:
        document = json.load(file)
    if document.get("format") != CACHE_FORMAT or document.get("version") != CACHE_VERSION:
        return None
    from safetensors import safe_open

    with safe_open(arrays_path, framework="numpy") as handle:
        if (handle.metadata() or {}).get("stamp") != document.get("stamp"):
            return None
    arrays = load_file(arrays_path)
    builder = _Builder(arrays, document["strings"])
    return [builder.instance(recipe) for recipe in document["instances"]]


class _Builder:
    def __init__(self, arrays: dict[str, numpy.ndarray], strings: list[str]) -> None:
        self.ids = arrays["ids"]
        self.type_ids = arrays["type_ids"]
        self.offsets = arrays["offsets"]
        self.strings = strings

    def instance(self, recipe: dict[str, Any]) -> Instance:
        texts: dict[str, CachedTextField] = {}
        for name, spec in recipe.items():
            self._texts(name, spec, texts)
        return Instance({name: self._field(name, spec, texts) for name, spec in recipe.items()})

    def _texts(self, path: str, spec: dict[str, Any], texts: dict[str, CachedTextField]) -> None:
        kind = spec["type"]
        if kind == "text":
            start, end = spec["start"], spec["start"] + spec["length"]
            texts[path] = CachedTextField(self.ids[start:end], self.type_ids[start:end])
        elif kind == "list":
            for index, item in enumerate(spec["items"]):
                self._texts(f"{path}.{index}", item, texts)

    def _field(self, path: str, spec: dict[str, Any], texts: dict[str, CachedTextField]) -> Field:
        kind = spec["type"]
        if kind == "text":
            return texts[path]
        if kind == "span":
            return SpanField(spec["start"], spec["end"], texts[spec["of"]])
        if kind == "index":
            return IndexField(spec["index"], texts[spec["of"]])
        if kind == "tensor":
            dtype = getattr(torch, spec["dtype"])
            return TensorField(
                torch.tensor(spec["values"], dtype=dtype),
                padding_value=spec["padding_value"],
                dtype=dtype,
            )
        if kind == "list":
            return ListField(
                [
                    self._field(f"{path}.{index}", item, texts)
                    for index, item in enumerate(spec["items"])
                ]
            )
        if kind == "metadata":
            return MetadataField(self._metadata(spec["value"]))
        raise ConfigurationError(f"unknown cached field type {kind!r} at {path!r}")

    def _metadata(self, value: Any) -> Any:
        if isinstance(value, dict):
            if "__string__" in value and len(value) == 1:
                return self.strings[value["__string__"]]
            if "__offsets__" in value and len(value) == 1:
                start, count = value["__offsets__"]
                return OffsetList(self.offsets[start : start + count])
            return {key: self._metadata(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._metadata(item) for item in value]
        return value


# ------------------------------------------------------------------------------------ the reader


def reader_settings(reader: DatasetReader) -> dict[str, Any]:
    """The wrapped reader's class and public JSON-able settings (part of the cache key)."""
    settings: dict[str, Any] = {}
    for name, value in sorted(vars(reader).items()):
        if name.startswith("_") or name in {"max_instances", "last_read_stats"}:
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        settings[name] = value
    tokenizer = getattr(getattr(reader, "_tokenizer", None), "tokenizer", None)
    if tokenizer is not None:
        settings["tokenizer"] = {
            "name_or_path": str(getattr(tokenizer, "name_or_path", "")),
            "class": type(tokenizer).__name__,
            "vocab_size": int(getattr(tokenizer, "vocab_size", 0) or 0),
        }
    return {"class": f"{type(reader).__module__}.{type(reader).__qualname__}", "settings": settings}


def data_files(reader: DatasetReader, file_path: str) -> list[str]:
    """The file itself, plus its translations for a reader with `translation_files`."""
    files = [file_path]
    translation_files = getattr(reader, "translation_files", None)
    resolve_language = getattr(reader, "resolve_language", None)
    if callable(translation_files) and callable(resolve_language):
        found = translation_files(file_path, resolve_language(file_path))
        files.extend(found[language] for language in sorted(found))
    return files


def cache_key(reader: DatasetReader, file_path: str) -> tuple[str, dict[str, Any]]:
    """A hash of the reader's settings and of each data file's path, size and mtime."""
    stamps = []
    for path in data_files(reader, file_path):
        stat = os.stat(path)
        stamps.append([os.path.abspath(path), stat.st_size, stat.st_mtime_ns])
    description = {"version": CACHE_VERSION, "reader": reader_settings(reader), "files": stamps}
    digest = hashlib.sha256(json.dumps(description, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:32], description


@DatasetReader.register("xltt_cached")
class CachedDatasetReader(DatasetReader):
    """
    Reads through a cache of tokenised instances: the first read of a file runs the wrapped
    `reader` and writes the cache (JSON + safetensors, see the module docstring); later reads
    rebuild the same instances from it (their `TextField`s are `CachedTextField`s, which give
    the same tensors). The cache key covers the wrapped reader's class and settings and each
    data file's path, size and modification time (for `xltt_parallel`, the translation files
    too), so a changed setting or file is read afresh.

    Sharded reading (multi-process and distributed) splits the instances between workers;
    each worker that misses the cache reads the whole file and writes the same cache (files
    are renamed into place whole).

    Registered as a `DatasetReader` with name "xltt_cached".

    # Parameters

    reader : `DatasetReader`
        The reader to cache, e.g. `xltt_squad` or `xltt_parallel`.
    cache_directory : `str`
        Where the cache files go.
    """

    def __init__(self, reader: DatasetReader, cache_directory: str, **kwargs: Any) -> None:
        super().__init__(
            manual_distributed_sharding=True, manual_multiprocess_sharding=True, **kwargs
        )
        self.reader = reader
        self.cache_directory = cache_directory

    def _read(self, file_path: str) -> Iterator[Instance]:
        key, description = cache_key(self.reader, file_path)
        instances: Optional[Iterable[Instance]] = load_instances(self.cache_directory, key)
        if instances is not None:
            logger.info("Read cached instances of %s (%s)", file_path, key)
        else:
            read = list(self.reader._read(file_path))
            writer = _Writer(file_path)
            for instance in read:
                writer.add(instance)
            writer.save(self.cache_directory, key, description)
            logger.info("Cached %d instances of %s as %s", len(read), file_path, key)
            instances = read
        yield from self.shard_iterable(instances)

    def text_to_instance(self, *args: Any, **kwargs: Any) -> Instance:
        return self.reader.text_to_instance(*args, **kwargs)

    def apply_token_indexers(self, instance: Instance) -> None:
        self.reader.apply_token_indexers(instance)
