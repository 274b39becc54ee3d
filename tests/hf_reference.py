"""Hugging Face transformers' own models as the independent count: build a model class from a
config.json dict, then count with PyTorch (sum(p.numel()), FlopCounterMode). Needs torch and
transformers; acct itself never imports either.

On the meta device nothing is computed, so a full-size model counts in about a second. Routing
in a mixture of experts reads values, so MoE models run for real on the CPU from a tiny config,
with the experts' eager implementation (the grouped kernel is invisible to the counter).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Dict, Mapping, Tuple

import torch
from torch.utils.flop_counter import FlopCounterMode


def hf_model(config: Mapping, device: str = "meta"):
    """The transformers causal-LM model for `config` (a config.json dict), eager attention."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = dict(config)
    model_type = config.pop("model_type")
    options = {"attn_implementation": "eager"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hf_config = AutoConfig.for_model(model_type, **config)
        if device != "meta":
            options["experts_implementation"] = "eager"
        torch.manual_seed(0)
        with torch.device(device):
            try:
                model = AutoModelForCausalLM.from_config(hf_config, **options)
            except TypeError:  # a model class without the experts_implementation option
                options.pop("experts_implementation", None)
                model = AutoModelForCausalLM.from_config(hf_config, **options)
    return model.eval()


def hf_params(model) -> int:
    """sum(p.numel()) over the model's parameters (a tied weight counts once)."""
    return sum(p.numel() for p in model.parameters())


def hf_flops(model, tokens: int, device: str = "meta") -> Tuple[int, Dict[str, int]]:
    """FlopCounterMode's total for one forward pass of one sequence of `tokens` tokens, and the FLOPs
    of each module on its own (without its children's), by module path."""
    ids = torch.zeros(1, tokens, dtype=torch.long, device=device)
    if device != "meta":
        ids = torch.randint(0, model.config.vocab_size, (1, tokens), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(1, tokens, dtype=torch.long, device=device)  # spares the mask code a .item() on meta
    with torch.no_grad(), FlopCounterMode(display=False, depth=None) as counter:
        model(input_ids=ids, attention_mask=mask, use_cache=False)
    counts = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    total = counts.pop("Global")
    own = dict(counts)
    for name, flops in counts.items():  # take each module's FLOPs off its nearest counted ancestor
        ancestors = [other for other in counts if name.startswith(other + ".")]
        if ancestors:
            own[max(ancestors, key=len)] -= flops
    return total, own


def by_suffix(own: Mapping[str, int]) -> Dict[str, int]:
    """Per-module FLOPs summed over the layers: `self_attn.q_proj` -> its FLOPs in every layer;
    a module outside the layers keeps its path after the model class (`lm_head`)."""
    totals: Dict[str, int] = defaultdict(int)
    for name, flops in own.items():
        if not flops:
            continue
        parts = name.split(".")
        if "layers" in parts:
            index = parts.index("layers")
            key = ".".join(parts[index + 2:]) or "layer"
        else:
            key = ".".join(parts[1:]) or "model"
        totals[key] += flops
    return dict(totals)
