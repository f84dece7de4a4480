// Issue 29, on the development split (training articles 30-35, never the test articles),
// seed 13: where does (a)'s dev F1 stop rising (two budgets in a row within 0.5 F1), and is
// lr 2e-4 still right at the largest budget (factor-2 grid)? Budgets are optimizer steps of 8
// windows: 4 epochs x steps_per_epoch; slanted_triangular's warm-up is the first 10 % of the
// steps and its linear decay the rest, so the schedule scales with the budget. 60 steps is
// e5-dev-lr's a_baseline_en-lr2e-4.
local e5 = import "e5.libsonnet";
local a(steps, lr=2e-4, lr_name="") = e5.a {
  name: "a_baseline_en-s" + steps + (if lr_name == "" then "" else "-lr" + lr_name),
  label: "(a) English only, " + steps + " steps" + (if lr_name == "" then "" else ", lr " + lr_name),
  lr: lr,
  steps_per_epoch: steps / 4,
};
local curve(reference, system, unseen) = {
  a: reference,
  b: system,
  modes: ["mlqa"],
  unseen: unseen,
};
e5 {
  description: "Development split: (a)'s learning curve (60/240/480 steps) and lr at 480, seed 13",
  title: "XQuAD development articles (6 of the 36 training articles), budgets of (a), "
         + "multilingual-e5-small",
  split+: { dev_articles: 6 },
  out: "benchmarks/out/quality-e5-dev",
  store: "benchmarks/quality/results/e5-dev",
  uses: ["e5-dev-lr"],
  lr: 2e-4,
  seeds: [13],
  systems: [a(240), a(480), a(480, 1e-4, "1e-4"), a(480, 4e-4, "4e-4")],
  comparisons: [
    curve("a_baseline_en-lr2e-4", "a_baseline_en-s240", "unseen-11"),
    curve("a_baseline_en-s240", "a_baseline_en-s480", "unseen-11"),
    curve("a_baseline_en-s480", "a_baseline_en-s480-lr1e-4", "unseen-11"),
    curve("a_baseline_en-s480", "a_baseline_en-s480-lr4e-4", "unseen-11"),
  ],
}
