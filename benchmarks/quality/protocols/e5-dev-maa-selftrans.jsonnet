// Issue 30, development articles, seed 13: do translations in training matter for the chosen
// MAA option? (c) with MAA none-t20 trained with every slot holding the pivot itself
// (self-transposition probability 1), modes self and translated, against e5-dev-maa's (c)/(d).
local e5 = import "e5.libsonnet";
local scored = e5.maa_scored;
local none_self = e5.c {
  name: "c_xltt-maa-none-t20-selftrans1",
  label: "(c), MAA maa-none-t20, self-transposition probability 1",
  lr: 2e-4,
  languages: scored,
  train_overrides: e5.checkpointing + {
    "model.maa": e5.maa_none_t20,
    "model.self_transposition_prob": 1.0,
  },
};
local d_self = e5.d(none_self) { languages: scored };
e5 {
  description: "Development split: MAA none-t20 trained with self-transposition 1 (issue 30), seed 13",
  title: "XQuAD development articles, MAA none-t20 with self-transposition probability 1",
  split+: { dev_articles: 6 },
  out: "benchmarks/out/quality-e5-dev",
  store: "benchmarks/quality/results/e5-dev",
  uses: ["e5-dev-maa"],
  lr: 2e-4,
  seeds: [13],
  report: { committed: "partial" },  // (c) in; its (d): pending.md
  systems: [none_self, d_self],
  comparisons: [
    { a: none_self.name, b: "c_xltt-maa-none-t20", modes: ["mlqa"], languages: scored },
    { a: d_self.name, b: "d_xltt_translated-maa-none-t20", modes: ["mlqa"], languages: scored },
  ],
}
