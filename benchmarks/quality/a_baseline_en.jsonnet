// System (a): baseline, English training articles only, no MAA, no auxiliary loss.
local c = import "common.libsonnet";
c.config {
  dataset_reader: c.train_reader { language: "en" },
  train_data_path: c.data + "/train/xquad.en.json",
  model: c.model { maa: null, aux_loss_weight: 0.0 },
}
