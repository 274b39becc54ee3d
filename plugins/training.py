"""The inputs of a training run and of inference: batch, steps, bytes per value, optimizer FLOPs, decode position."""

from acct import Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("batch_size", "sequences per training step (or per inference batch)", symbol="B", default=1))
    register(Input("steps", "training steps", symbol="S", default=1))
    # bytes per value; `--precision fp32|mixed` sets all five (see acct.training.PRECISIONS)
    register(Input("weight_bytes", "bytes per weight", default=4))
    register(Input("master_bytes", "bytes per master-weight copy (mixed precision)", default=0, minimum=0))
    register(Input("grad_bytes", "bytes per gradient", default=4))
    register(Input("moment_bytes", "bytes per parameter for AdamW's two moments", default=8))
    register(Input("activation_bytes", "bytes per activation value", symbol="b_act", default=4))
    # AdamW per parameter: m (3), v (4), decoupled weight decay (2), update m/(√v+ε)·lr (5)
    register(Input("optimizer_flops", "optimizer FLOPs per parameter per step (AdamW: 14)", default=14, minimum=0))
    register(Input("kv_bytes", "bytes per KV-cache value", default=2))
    register(
        Input("decode_position", "position of the token being decoded (keys it attends to)", symbol="t",
              default="context_length")
    )
