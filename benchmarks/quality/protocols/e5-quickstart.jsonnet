// `make e5-quickstart` (README "Zero-shot in 12 languages"): system (a) at lr 1e-4, 60 steps,
// seed 13, 40 of the 265 test questions per language (evenly spaced, the same ids in every
// language), MLQA rules only, torch on 2 threads. Run by benchmarks/quality/e5_quickstart.py.
local e5 = import "e5.libsonnet";
e5 {
  description: "make e5-quickstart: (a) for 60 steps, 40 test questions per language",
  title: "XQuAD test articles, 40 questions per language; multilingual-e5-small (4-bit, "
         + "dequantised), system (a) fine-tuned 60 steps on English only",
  runner: "e5_quickstart",
  split+: { questions: 40 },
  out: "benchmarks/out/e5-quickstart",
  store: "benchmarks/quality/results/e5-quickstart",
  modes: ["mlqa"],
  threads: 2,
  systems: [e5.a],
  comparisons: [],
}
