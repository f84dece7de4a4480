// Ablations of (c) at the main result's lr 2e-4, seed 13 (RESULTS "Ablations at lr 2e-4"):
// without MAA, without the auxiliary loss, and the latter in test mode translated; each
// against e5-main's (c) / (d) of the same seed.
local e5 = import "e5.libsonnet";
local c = e5.c { name: "c_xltt-lr2e-4" };
local noaux = c {
  name: "c_xltt-lr2e-4-noaux",
  label: "(c) without the auxiliary loss",
} + e5.without_aux;
e5 {
  description: "Ablations of (c) at lr 2e-4, seed 13: no MAA, no auxiliary loss (also translated)",
  title: "XQuAD test articles, multilingual-e5-small, ablations of (c) at lr 2e-4",
  lr: 2e-4,
  seeds: [13],
  uses: ["e5-main"],  // its systems may be compared with, not run again
  systems: [
    c {
      name: "c_xltt-lr2e-4-nomaa",
      label: "(c) without MAA (maa: null)",
    } + e5.without_maa,
    noaux,
    e5.d(noaux),
  ],
  comparisons: [
    { a: "c_xltt-lr2e-4-nomaa", b: "c_xltt-lr2e-4" },
    { a: "c_xltt-lr2e-4-noaux", b: "c_xltt-lr2e-4" },
    { a: "d_xltt_translated-lr2e-4-noaux", b: "d_xltt_translated-lr2e-4" },
    { a: "c_xltt-lr2e-4-noaux", b: "d_xltt_translated-lr2e-4-noaux" },
  ],
}
