"""The Prometheus series showback reads, by name: the one home of every metric and label name
(tokens, GPU idle, the sample data and the CLI defaults all import them from here).

- vLLM exports `vllm:prompt_tokens_total` and `vllm:generation_tokens_total` per `model_name`
  (https://docs.vllm.ai/en/latest/serving/metrics.html); `--prompt-metric`,
  `--generation-metric` and `--model-label` name another server's counters.
- NVIDIA dcgm-exporter's `DCGM_FI_DEV_GPU_UTIL` is each GPU's busy percent
  (https://github.com/NVIDIA/dcgm-exporter); kube-state-metrics' `kube_node_labels` maps nodes
  to pools (https://github.com/kubernetes/kube-state-metrics).
- dcgm-exporter's `DCGM_FI_DEV_FB_USED` is each GPU's framebuffer memory used, in MiB
  (NVIDIA/dcgm-exporter etc/default-counters.csv: "Framebuffer memory used (in MiB)").
- vLLM's `vllm:num_requests_waiting` gauges the requests queued for a model server (same vLLM page).
"""

from __future__ import annotations

import re

PROMPT_METRIC = "vllm:prompt_tokens_total"
GENERATION_METRIC = "vllm:generation_tokens_total"
MODEL_LABEL = "model_name"
GPU_UTIL_METRIC = "DCGM_FI_DEV_GPU_UTIL"
NODE_LABELS_METRIC = "kube_node_labels"
FB_USED_METRIC = "DCGM_FI_DEV_FB_USED"
WAITING_METRIC = "vllm:num_requests_waiting"

# Prometheus data model: metric and label names
# (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels).
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
