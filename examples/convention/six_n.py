"""A counting convention: the rule of thumb C ≈ 6·N·D for training (2·N·D forward), N every parameter."""

import acct


@acct.hookimpl
def acct_register_conventions(register):
    register(acct.Convention(
        name="six_n",
        description="6·N per token for training, 2·N forward; N all the parameters (embeddings and every expert "
        "included), no attention term",
        source="the common rule of thumb (e.g. Kaplan et al. 2020 §2.1 without the n_ctx term, N not reduced)",
        forward="2 * params_total * batch_size * context_length",
        training="6 * params_total * batch_size * context_length",
    ))
