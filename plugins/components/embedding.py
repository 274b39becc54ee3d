"""Token embedding: a V×D lookup table, no matrix multiply."""

from acct import Component, hookimpl


@hookimpl
def acct_register_components(register):
    register(
        Component(
            name="token_embedding",
            slot="token_embedding",
            variant="lookup",
            group="embedding",
            params="vocab_size * d_model",
            flops=0,
            description="token embedding (a lookup: no FLOPs)",
            default=True,
            activations={"*": 0},
            embedding_table=True,
        )
    )
