// Multi-source XLTT on the bundled fixtures with the tiny random XLM-R (trains in seconds; CI
// runs it): the parallel English/Japanese/Korean fixture set plus the CMRC- and DRCD-like
// Chinese sets, sampled and loss-weighted by TF-IDF similarity to the MLQA-style English dev
// questions.
local encoder = 'fixtures/tiny-xlmr';
local windows = { transformer_model_name: encoder, length_limit: 96, stride: 48, max_query_length: 32 };
local data = 'fixtures/data/';
local sources = {
  squad: data + 'parallel/squad_en.json',
  cmrc2018: data + 'cmrc2018/cmrc_zh.json',
  drcd: data + 'drcd/drcd_zh.json',
};
local weights = {
  target_path: data + 'mlqa/dev-context-en-question-en.json',
  source_paths: sources,
  temperature: 0.1,
};
{
  dataset_reader: {
    type: 'multitask',
    readers: {
      squad: windows { type: 'xltt_parallel', parallel_languages: ['ja', 'ko'], language: 'en', dataset_name: 'squad' },
      cmrc2018: windows { type: 'xltt_squad', language: 'zh', dataset_name: 'cmrc2018' },
      drcd: windows { type: 'xltt_squad', language: 'zh', dataset_name: 'drcd' },
    },
  },
  train_data_path: sources,
  validation_dataset_reader: windows { type: 'xltt_squad' },
  validation_data_path: data + 'mlqa/dev-context-en-question-en.json',
  vocabulary: { type: 'empty' },
  data_loader: {
    // len() = the batches an epoch yields (AllenNLP's `multitask` over-counts them).
    type: 'xltt_multitask',
    scheduler: { type: 'homogeneous_roundrobin', batch_size: 8 },
    sampler: { type: 'task_similarity', task_weights: weights },
    instances_per_epoch: 96,
  },
  validation_data_loader: { batch_size: 16, shuffle: false },
  evaluation: { type: "xltt" },  // evaluate writes the test mode into the metrics
  model: {
    type: 'xltt',
    transformer_model_name: encoder,
    num_parallel: 2,
    maa: { num_heads: 1 },
    aux_loss_weight: 1.0,
    self_transposition_prob: 0.1,
    dataset_weights: weights,
  },
  trainer: {
    num_epochs: 2,
    cuda_device: -1,
    grad_norm: 1.0,
    // Keeps torch's RNG state in checkpoints: `--recover` matches an uninterrupted run.
    callbacks: [{ type: 'torch_rng_state' }],
    validation_metric: '+f1',
    optimizer: { type: 'huggingface_adamw', lr: 1e-3, weight_decay: 0.01 },
    learning_rate_scheduler: { type: 'cosine_decay', warmup_steps: 2 },
  },
}
