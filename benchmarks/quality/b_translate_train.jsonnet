// System (b): translate-train baseline: English + German + Spanish training articles mixed in
// one shuffled file (ids suffixed -en/-de/-es), no MAA, no auxiliary loss. Same optimizer steps
// as (a) and (c): each batch is drawn from the mixed data.
local c = import "common.libsonnet";
c.config {
  // The language tag only labels validation metrics; the mixed file has three.
  dataset_reader: c.train_reader { language: "en", dataset_name: "xquad_mix" },
  train_data_path: c.data + "/train/xquad_mix.en-de-es.json",
  model: c.model { maa: null, aux_loss_weight: 0.0 },
}
