"""PyTorch's own account of one training step's memory: the reference acct's phase model is checked against.

The team's oracle (../shared/oracle/memtrack.py), as a function the tests and tests/memcheck.py call in one
process: a Hugging Face model built from a config under FakeTensorMode (no real memory, any size on a CPU),
one step — forward with labels (the model's own loss), backward, AdamW — inside
torch.distributed._tools.mem_tracker.MemTracker; the peak of forward + backward and of the optimizer step,
each as PyTorch's categories (param, buffer, grad, act, temp, opt) and their total. Needs torch and
transformers (the `memcheck` extra's; CPU builds suffice).
"""

from __future__ import annotations

from typing import Dict, Mapping


def _categories(snapshot) -> Dict[str, int]:
    (per_device,) = snapshot.values()
    return {str(key).split(".")[-1].lower(): int(value) for key, value in per_device.items()}


def measure(config: Mapping, tokens: int, batch: int = 1, precision: str = "fp32", attention: str = "sdpa",
            optimizer_impl: str = "forloop") -> Dict[str, Dict[str, int]]:
    """{"forward_backward": {...}, "optimizer_step": {...}, "pre_backward": {...}, "params": n} for one step."""
    import torch
    import transformers
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    transformers.logging.set_verbosity_error()
    with FakeTensorMode():
        hf_config = transformers.AutoConfig.for_model(**dict(config))
        hf_config._attn_implementation = attention
        if getattr(hf_config, "use_cache", None) is not None:
            hf_config.use_cache = False
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        model = transformers.AutoModelForCausalLM.from_config(hf_config, attn_implementation=attention, dtype=dtype)
        model.train()
        impl = {"forloop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[optimizer_impl]
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, **impl)
        ids = torch.randint(0, hf_config.vocab_size, (batch, tokens))
        tracker = MemTracker()
        tracker.track_external(model, optimizer)
        with tracker:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "amp"):
                loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            forward_backward = _categories(tracker.get_tracker_snapshot("peak"))
            # restart the running peak, so what follows is the optimizer step's own (as memtrack.py does)
            tracker._peak_mem_snap = tracker.get_tracker_snapshot("current")
            tracker._peak_mem = {device: snap["Total"] for device, snap in tracker._peak_mem_snap.items()}
            optimizer.step()
            optimizer.zero_grad()
            optimizer_step = _categories(tracker.get_tracker_snapshot("peak"))
        phases = {str(name).split(".")[-1].lower(): max((_categories(s) for s in snaps), key=lambda c: c["total"])
                  for name, snaps in tracker.memory_tracking[model].snapshots.items()}
        params = sum(t.numel() for t in model.parameters() if t.requires_grad)
    return {"forward_backward": forward_backward, "optimizer_step": optimizer_step,
            "pre_backward": phases.get("pre_bw", {}), "params": params}
