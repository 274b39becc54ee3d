"""The inputs every Transformer shape has: context length, layers, model width, vocabulary."""

from acct import Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("vocab_size", "vocabulary size", symbol="V"))
    register(Input("context_length", "tokens in one sequence", symbol="T"))
    register(Input("num_layers", "Transformer blocks", symbol="L"))
    register(Input("d_model", "model (residual stream) width", symbol="D"))
