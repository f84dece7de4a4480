// System (a0): allennlp-models' stock `transformer_qa` (reader `transformer_squad`), English
// training articles only: the anchor that (a), `xltt` with `maa: null` and no auxiliary loss,
// must agree with. Same encoder, windows, batches, optimizer and steps as the other systems.
local c = import "common.libsonnet";
c.config {
  dataset_reader: c.windows { type: "transformer_squad", skip_impossible_questions: true },
  train_data_path: c.data + "/train/xquad.en.json",
  model: { type: "transformer_qa", transformer_model_name: c.encoder },
}
