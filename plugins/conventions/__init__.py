"""Counting-convention plugins, named ways to count FLOPs: add one as a new module here, listed in CONVENTION_PLUGINS.

`flops`: acct's matmul count (the default), MACs, the causal and dense counts, and those of
Kaplan et al., Chinchilla, PaLM, Megatron-LM and Korthikanti et al.; a new estimator's count is
a module of its own beside it. A third party's convention is the same module outside acct, loaded with
`-p FILE` (README, "Writing a convention").
"""
