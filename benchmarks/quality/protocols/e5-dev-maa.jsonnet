// Issue 30: options of the MAA layer on the development split (training articles 30-35, never
// the test articles), seed 13, at the main result's settings (lr 2e-4, 60 steps x 8 windows).
// Each option is (c) with a `model.maa` override, tested in mode `self` and, as (d), in mode
// `translated` (XQuAD's human de/es versions of each dev item in the slots). The paper-exact
// MAA is e5-dev-lr's c_xltt-lr2e-4 (mode self only: its archive was not kept). Scored on en and
// the 9 unseen languages (de, es are training languages of (c)).
local e5 = import "e5.libsonnet";
local scored = e5.maa_scored;
local option(tag, maa, extra={}) = e5.c {
  name: "c_xltt-" + tag,
  label: "(c), MAA " + tag,
  lr: 2e-4,
  languages: scored,
  train_overrides: e5.checkpointing + { "model.maa": maa } + extra,
};
local none = option("maa-none-t20", e5.maa_none_t20);
local pivot = option(
  "maa-pivot-t50",
  { num_heads: 1, adaptive_sides: "pivot", score_scale: 50, learn_score_scale: true }
);
local both = option(
  "maa-both-t2000",
  { num_heads: 1, adaptive_sides: "both", score_scale: 2000, learn_score_scale: true }
);
local d(c) = e5.d(c) { languages: scored };
// Translations in training (the same option with every slot holding the pivot itself):
// protocol e5-dev-maa-selftrans, which uses these runs.
local paper = "c_xltt-lr2e-4";
e5 {
  description: "Development split: MAA options of (c) (issue 30), modes self and translated, seed 13",
  title: "XQuAD development articles (6 of the 36 training articles), MAA options of (c), "
         + "multilingual-e5-small",
  split+: { dev_articles: 6 },
  out: "benchmarks/out/quality-e5-dev",
  store: "benchmarks/quality/results/e5-dev",
  uses: ["e5-dev-lr"],
  lr: 2e-4,
  seeds: [13],
  systems: [none, d(none), pivot, d(pivot), both, d(both)],
  comparisons: [
    { a: paper, b: none.name, modes: ["mlqa"], languages: scored },
    { a: paper, b: pivot.name, modes: ["mlqa"], languages: scored },
    { a: paper, b: both.name, modes: ["mlqa"], languages: scored },
    { a: none.name, b: d(none).name, modes: ["mlqa"], languages: scored },
    { a: pivot.name, b: d(pivot).name, modes: ["mlqa"], languages: scored },
    { a: both.name, b: d(both).name, modes: ["mlqa"], languages: scored },
    { a: paper, b: d(none).name, modes: ["mlqa"], languages: scored },
    { a: paper, b: d(pivot).name, modes: ["mlqa"], languages: scored },
    { a: paper, b: d(both).name, modes: ["mlqa"], languages: scored },
  ],
}
