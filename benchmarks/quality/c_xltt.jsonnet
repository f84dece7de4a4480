// System (c): XLTT: English pivot windows, German and Spanish parallel windows (professional
// XQuAD translations, same question ids), MAA and the auxiliary transposition loss. Evaluated,
// like (a) and (b), on single-language files (self-transposition at inference).
local c = import "common.libsonnet";
c.config {
  dataset_reader: c.windows {
    type: "xltt_parallel",
    language: "en",
    parallel_languages: ["de", "es"],
    skip_impossible_questions: true,
  },
  train_data_path: c.data + "/train/xquad.en.json",
  model: c.model {
    num_parallel: 2,
    maa: { num_heads: 1 },
    aux_loss_weight: 1.0,
    self_transposition_prob: 0.1,
  },
}
