// The main result (README, RESULTS "Main result"): every system at the learning rate chosen on
// the development articles (2e-4, protocol e5-dev-lr), 60 optimizer steps x 8 windows, seeds
// 13-15, scored on the 12 test articles in all 12 XQuAD languages.
local e5 = import "e5.libsonnet";
local c = e5.c { name: "c_xltt-lr2e-4" };
e5 {
  description: "Main result: (a), (b), (c), (d) at the dev-chosen lr 2e-4, 3 seeds, test articles",
  title: "XQuAD test articles, multilingual-e5-small, every system at the dev-chosen lr 2e-4",
  lr: 2e-4,
  seeds: [13, 14, 15],
  systems: [
    e5.a { name: "a_baseline_en-lr2e-4" },
    e5.b { name: "b_translate_train-lr2e-4" },
    c,
    e5.d(c),
  ],
  report: { gain_over: "a_baseline_en-lr2e-4" },
  comparisons: [
    { a: "a_baseline_en-lr2e-4", b: "c_xltt-lr2e-4" },
    { a: "b_translate_train-lr2e-4", b: "c_xltt-lr2e-4" },
    { a: "c_xltt-lr2e-4", b: "d_xltt_translated-lr2e-4" },
    // Every unseen language on every seed (no other language in the rows).
    {
      a: "c_xltt-lr2e-4",
      b: "d_xltt_translated-lr2e-4",
      languages: "unseen-9",
      suffix: ".all-unseen",
    },
  ],
}
