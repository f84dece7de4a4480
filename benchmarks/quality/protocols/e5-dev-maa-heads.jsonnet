// Issue 30, development articles, seed 13: does the chosen MAA option gain from projected heads?
// MAA none-t20 (e5.maa_none_t20) with num_heads 4: per-head linear projections of the pivot and
// the slots to h/4 dimensions, per-head scores averaged (MultilingualAdaptiveAttention's
// `num_heads`), modes self and translated, against e5-dev-maa's num_heads 1 rows.
local e5 = import "e5.libsonnet";
local scored = e5.maa_scored;
local heads = e5.c {
  name: "c_xltt-maa-none-t20-h4",
  label: "(c), MAA maa-none-t20, 4 projected heads",
  lr: 2e-4,
  languages: scored,
  train_overrides: e5.checkpointing + { "model.maa": e5.maa_none_t20 { num_heads: 4 } },
};
local d_heads = e5.d(heads) { languages: scored };
e5 {
  description: "Development split: MAA none-t20 with 4 projected heads (issue 30), seed 13",
  title: "XQuAD development articles, MAA none-t20 with num_heads 4",
  split+: { dev_articles: 6 },
  out: "benchmarks/out/quality-e5-dev",
  store: "benchmarks/quality/results/e5-dev",
  uses: ["e5-dev-maa"],
  lr: 2e-4,
  seeds: [13],
  report: { committed: true },
  systems: [heads, d_heads],
  comparisons: [
    { a: "c_xltt-maa-none-t20", b: heads.name, modes: ["mlqa"], languages: scored },
    { a: "d_xltt_translated-maa-none-t20", b: d_heads.name, modes: ["mlqa"], languages: scored },
    { a: heads.name, b: d_heads.name, modes: ["mlqa"], languages: scored },
  ],
}
