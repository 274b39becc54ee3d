"""A PyTorch reference Transformer, built from an acct report's inputs and variants, and counted by
PyTorch itself: sum(p.numel()) and FlopCounterMode on the meta device. Shared by the cross-check
test and the benchmark (tests/bench.py); needs torch."""

import math
from contextlib import ExitStack
from unittest import mock

import torch
from torch import nn
from torch.nn import functional
from torch.utils.flop_counter import FlopCounterMode


class Attention(nn.Module):
    def __init__(self, d_model, heads, kv_heads, d_head, d_head_v, qk_norm, bias):
        super().__init__()
        self.heads, self.kv_heads, self.d_head, self.d_head_v = heads, kv_heads, d_head, d_head_v
        self.q_proj = nn.Linear(d_model, heads * d_head, bias="q_proj" in bias)
        self.k_proj = nn.Linear(d_model, kv_heads * d_head, bias="k_proj" in bias)
        self.v_proj = nn.Linear(d_model, kv_heads * d_head_v, bias="v_proj" in bias)
        self.out_proj = nn.Linear(heads * d_head_v, d_model, bias="out_proj" in bias)
        self.qk_norm = qk_norm  # None, "head" (a d_k gain over each head) or "proj" (over the projection)
        if qk_norm:
            self.q_norm = nn.RMSNorm(d_head if qk_norm == "head" else heads * d_head)
            self.k_norm = nn.RMSNorm(d_head if qk_norm == "head" else kv_heads * d_head)

    def forward(self, x):
        batch, tokens, width = x.shape
        q, k = self.q_proj(x), self.k_proj(x)
        if self.qk_norm == "proj":
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.view(batch, tokens, self.heads, self.d_head).transpose(1, 2)
        k = k.view(batch, tokens, self.kv_heads, self.d_head).transpose(1, 2)
        if self.qk_norm == "head":
            q, k = self.q_norm(q), self.k_norm(k)
        v = self.v_proj(x).view(batch, tokens, self.kv_heads, self.d_head_v).transpose(1, 2)
        if self.kv_heads < self.heads:  # GQA: each K/V head serves heads/kv_heads query heads
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.d_head)
        mask = torch.ones(tokens, tokens, dtype=torch.bool, device=x.device).triu(1)
        weights = scores.masked_fill(mask, float("-inf")).softmax(-1)
        y = (weights @ v).transpose(1, 2).reshape(batch, tokens, self.heads * self.d_head_v)
        return self.out_proj(y)


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, gated, bias):
        super().__init__()
        self.gated = gated
        if gated:
            self.ffn_w1 = nn.Linear(d_model, d_ff, bias="ffn_w1" in bias)
            self.ffn_w3 = nn.Linear(d_model, d_ff, bias="ffn_w3" in bias)
            self.ffn_w2 = nn.Linear(d_ff, d_model, bias="ffn_w2" in bias)
        else:
            self.ffn_in = nn.Linear(d_model, d_ff, bias="ffn_in" in bias)
            self.ffn_out = nn.Linear(d_ff, d_model, bias="ffn_out" in bias)

    def forward(self, x):
        if self.gated:
            return self.ffn_w2(functional.silu(self.ffn_w1(x)) * self.ffn_w3(x))
        return self.ffn_out(functional.gelu(self.ffn_in(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, s, variants, bias):
        super().__init__()
        norm = nn.RMSNorm if variants["norm"] == "rmsnorm" else nn.LayerNorm
        self.norm1, self.norm2 = norm(s["d_model"]), norm(s["d_model"])
        self.attention = Attention(s["d_model"], s["num_heads"], s.get("num_kv_heads", s["num_heads"]),
                                   s["d_head"], s["d_head_v"], variants.get("qk_norm"), bias)
        self.ffn = FeedForward(s["d_model"], s["d_ff"], variants["ffn"] == "swiglu", bias)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class Reference(nn.Module):
    def __init__(self, s, variants, bias):
        super().__init__()
        self.token_embedding = nn.Embedding(s["vocab_size"], s["d_model"])
        self.learned = variants["position"] == "learned"
        if self.learned:
            self.learned_positions = nn.Embedding(s["max_positions"], s["d_model"])
        self.blocks = nn.ModuleList(Block(s, variants, bias) for _ in range(s["num_layers"]))
        norm = nn.RMSNorm if variants["norm"] == "rmsnorm" else nn.LayerNorm
        self.final_norm = norm(s["d_model"])
        self.lm_head = nn.Linear(s["d_model"], s["vocab_size"], bias="lm_head" in bias)
        if variants["lm_head"] == "tied":
            self.lm_head.weight = self.token_embedding.weight

    def forward(self, tokens):
        x = self.token_embedding(tokens)
        if self.learned:
            x = x + self.learned_positions(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.final_norm(x))


def reference_counts(report):
    """(sum of numel, FlopCounterMode's total, per-row FLOPs) of the PyTorch reference on the meta device."""
    shape = {line.name: line.value for line in report.inputs}
    biased = {row.name for row in report.rows if "+" in row.params_formula}  # acct added a bias to these
    with torch.device("meta"), ExitStack() as stack:
        for module in (nn.Linear, nn.Embedding, nn.LayerNorm, nn.RMSNorm):
            # meta tensors hold no values: skip initialising them (100× faster to build)
            stack.enter_context(mock.patch.object(module, "reset_parameters", lambda self: None))
        model = Reference(shape, report.variants, biased)
        tokens = torch.zeros(1, shape["context_length"], dtype=torch.long)
    params = sum(p.numel() for p in model.parameters())  # a tied weight is one parameter, counted once
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(tokens)
    by_module = counter.get_flop_counts()
    per_row = {}
    for module, ops in by_module.items():
        leaf = module.rsplit(".", 1)[-1]
        per_row.setdefault(leaf, 0)
        per_row[leaf] += sum(ops.values())
    # the attention module's own matmuls, QKᵀ and attention·V, are what remains without its projections
    per_row["attention_core"] = per_row["attention"] - sum(
        per_row[name] for name in ("q_proj", "k_proj", "v_proj", "out_proj"))
    return params, counter.get_total_flops(), per_row
