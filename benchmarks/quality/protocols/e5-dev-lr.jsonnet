// Settings checked on the development split (training articles 30-35; never the test
// articles; RESULTS "Settings"): the learning rate of every system (5e-5 for (a) only, 1e-4,
// 2e-4, 4e-4) and unfrozen word embeddings for (a), seed 13. Each variant is compared with its
// system at lr 1e-4 over the languages that system did not train on. Chose lr 2e-4 (e5-main).
local e5 = import "e5.libsonnet";
local mlqa(a, b, unseen) = { a: a, b: b, modes: ["mlqa"], unseen: unseen };
e5 {
  description: "Development split (6 of the 36 training articles): learning rates, seed 13",
  title: "XQuAD development articles (6 of the 36 training articles), "
         + "multilingual-e5-small (4-bit, dequantised)",
  split+: { dev_articles: 6 },
  out: "benchmarks/out/quality-e5-dev",
  store: "benchmarks/quality/results/e5-dev",
  lr: 1e-4,
  seeds: [13],
  systems: [
    e5.a,
    e5.a { name: "a_baseline_en-lr2e-4", lr: 2e-4 },
    e5.a { name: "a_baseline_en-lr4e-4", lr: 4e-4 },
    e5.a { name: "a_baseline_en-lr5e-5", lr: 5e-5 },
    e5.a { name: "a_baseline_en-unfrozen", freeze_word_embeddings: false },
    e5.b,
    e5.b { name: "b_translate_train-lr2e-4", lr: 2e-4 },
    e5.b { name: "b_translate_train-lr4e-4", lr: 4e-4 },
    e5.c,
    e5.c { name: "c_xltt-lr2e-4", lr: 2e-4 },
    e5.c { name: "c_xltt-lr4e-4", lr: 4e-4 },
  ],
  comparisons: [
    mlqa("a_baseline_en", "a_baseline_en-lr2e-4", "unseen-11"),
    mlqa("a_baseline_en", "a_baseline_en-lr4e-4", "unseen-11"),
    mlqa("a_baseline_en", "a_baseline_en-lr5e-5", "unseen-11"),
    mlqa("a_baseline_en", "a_baseline_en-unfrozen", "unseen-11"),
    mlqa("b_translate_train", "b_translate_train-lr2e-4", "unseen-9"),
    mlqa("b_translate_train", "b_translate_train-lr4e-4", "unseen-9"),
    mlqa("c_xltt", "c_xltt-lr2e-4", "unseen-9"),
    mlqa("c_xltt", "c_xltt-lr4e-4", "unseen-9"),
  ],
}
