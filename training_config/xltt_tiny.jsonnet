// XLTT on the bundled fixtures with the tiny random XLM-R: trains in seconds on a CPU.
// `make demo` trains it; tests use it. English pivot (fixtures/data/parallel/squad_en.json)
// with its Japanese and Korean translations (squad_ja.json, squad_ko.json, found by name).
local encoder = "fixtures/tiny-xlmr";
local windows = { transformer_model_name: encoder, length_limit: 96, stride: 48, max_query_length: 32 };
{
  dataset_reader: windows {
    type: "xltt_parallel",
    parallel_languages: ["ja", "ko"],
    language: "en",
    dataset_name: "squad",
  },
  validation_dataset_reader: windows { type: "xltt_squad" },
  train_data_path: "fixtures/data/parallel/squad_en.json",
  validation_data_path: "fixtures/data/mlqa/dev-context-en-question-en.json",
  model: {
    type: "xltt",
    transformer_model_name: encoder,
    num_parallel: 2,
    maa: { num_heads: 1 },
    aux_loss_weight: 1.0,
    self_transposition_prob: 0.1,
    max_answer_length: 30,
  },
  data_loader: { batch_size: 8, shuffle: true },
  validation_data_loader: { batch_size: 16, shuffle: false },
  evaluation: { type: "xltt" },  // evaluate writes the test mode into the metrics
  trainer: {
    num_epochs: 8,
    cuda_device: -1,
    grad_norm: 1.0,
    // Keeps torch's RNG state in checkpoints: `--recover` matches an uninterrupted run.
    callbacks: [{ type: 'torch_rng_state' }],
    validation_metric: "+f1",
    optimizer: { type: "huggingface_adamw", lr: 1e-3, weight_decay: 0.01 },
    learning_rate_scheduler: { type: "linear_with_warmup", warmup_steps: 5 },
  },
}
