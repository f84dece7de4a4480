// Shared by the multilingual-e5-small protocols (issue 16): the encoder, the XQuAD split, the
// windows, the optimizer budget and the four systems (a0), (a), (b), (c) and (d) as templates.
// A protocol file (`e5-*.jsonnet`) is this object plus its own systems, seeds and comparisons;
// `python -m benchmarks.quality list` shows them all. Field reference:
// docs/quality-protocols.md.
{
  encoder: "e5",  // `make e5`'s folder; or minilm, or the path of any Hugging Face folder
  // XQuAD (../shared/data/xquad) split by article: the first 36 train, the last 12 test;
  // dev_articles N > 0: train on the first 36 - N, evaluate on the next N (never the test).
  split: { train_articles: 36, dev_articles: 0 },
  // Windows (tokens) in training and at test time; windows per optimizer step.
  windows: { length: 192, stride: 64, eval_length: 256, eval_stride: 64, batch_size: 8 },
  freeze_word_embeddings: true,
  // The budget: epochs x steps_per_epoch optimizer steps (every system may override these).
  epochs: 4,
  steps_per_epoch: 15,
  lr: 1e-4,
  seeds: [13],
  // Where `run` trains (archives, never committed) and where `collect` copies the small
  // outputs (predictions, scores, config, metrics, manifest) for git.
  out: "benchmarks/out/quality-e5",
  store: "benchmarks/quality/results/e5",
  // Language sets that comparisons name; `all` is also the order of their rows.
  language_sets: {
    all: ["en", "de", "es", "zh", "tr", "th", "vi", "ar", "ru", "ro", "hi", "el"],
    "unseen-9": ["ar", "hi", "vi", "zh", "el", "ru", "th", "tr", "ro"],
    "unseen-11": ["ar", "hi", "vi", "zh", "el", "ru", "th", "tr", "ro", "es", "de"],
  },
  // (c) at 5.9 GB was killed by the OOM killer on a shared 24 GB machine: checkpointing saves
  // memory only (the computed values are the same).
  checkpointing:: { "model.transformer_kwargs": { gradient_checkpointing: true } },
  // The two ablations of a (c)-like system (RESULTS "Ablations"): mix into a system that sets
  // its own name and label; its other overrides (checkpointing) are kept.
  without_aux:: { train_overrides+: { "model.aux_loss_weight": 0.0 } },
  without_maa:: { train_overrides+: { "model.maa": null } },
  // The MAA option chosen on the development split (e5-dev-maa, issue 30): plain scaled cross
  // attention, learned temperature from 20 (`XLTT_MAA=cross` in training_config/).
  maa_none_t20:: { num_heads: 1, adaptive_sides: "none", score_scale: 20, learn_score_scale: true },
  // The languages the MAA option studies score (e5-dev-maa*): en and the 9 unseen languages
  // (de, es are training languages of (c)).
  maa_scored:: ["en", "zh", "tr", "th", "vi", "ar", "ru", "ro", "hi", "el"],
  // System templates: `config` is benchmarks/quality/CONFIG.jsonnet; `name` names the run
  // folders (STORE/NAME-seedN) and the rows of the tables.
  a0:: {
    name: "a0_transformer_qa",
    label: "(a0) allennlp-models' stock transformer_qa, English",
    config: "a0_transformer_qa",
    train_languages: ["en"],
  },
  a:: {
    name: "a_baseline_en",
    label: "(a) English only (xltt, maa: null)",
    config: "a_baseline_en",
    train_languages: ["en"],
  },
  b:: {
    name: "b_translate_train",
    label: "(b) translate-train (en + de + es mixed)",
    config: "b_translate_train",
    train_languages: ["en", "de", "es"],
  },
  c:: {
    name: "c_xltt",
    label: "(c) XLTT: en pivot, de/es slots, MAA + auxiliary loss",
    config: "c_xltt",
    train_languages: ["en", "de", "es"],
    train_overrides: $.checkpointing,
  },
  // (d): the archives of a (c)-like system in test mode `translated`, XQuAD's human de/es
  // versions of each test item in the slots (standing in for machine translation).
  d(c_system):: {
    name: std.strReplace(c_system.name, "c_xltt", "d_xltt_translated"),
    label: "(d) = " + c_system.name + "'s models, test mode translated (de, es slots)",
    reuses: c_system.name,
    test_mode: { translated: ["de", "es"] },
  },
  // (d) scored on en and the 9 unseen languages only (de, es are its slot languages).
  d_scored(c_system):: $.d(c_system) { languages: $.maa_scored },
}
