"""What a plugin registers: the inputs it reads and the component rows it contributes."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Tuple, Union

from acct.records import fresh, record

FormulaText = Union[str, int]


@record(frozen=True)
class Input:
    """A named value a preset may set, e.g. `d_model`.

    `default` is a formula (or a number) used when the preset leaves the input
    out; None makes the input required wherever a chosen component reads it.
    `symbol` is how displayed formulas write it (`D`). A size must be a whole
    number of at least `minimum`. An input with `settable=False` is derived
    from others by its default and a preset cannot set it (`queries_per_kv =
    num_heads / num_kv_heads`, which must divide). `message` says, in the user's
    words, what a default value that breaks those checks means: `{name}` stands for
    that input's value, `{value}` for this one's (`num_heads = {num_heads} is not a
    multiple of num_kv_heads = {num_kv_heads}`); without it the error shows the formula.
    """

    name: str
    description: str
    symbol: Optional[str] = None
    default: Optional[FormulaText] = None
    minimum: Optional[int] = 1
    integer: bool = True
    settable: bool = True
    message: Optional[str] = None


@record(frozen=True)
class Component:
    """One row of the report: a part of the model with its parameter and FLOPs formulas.

    A component belongs to a `slot` (ffn, lm_head, ...) as one `variant` of it
    (swiglu, gelu; untied, tied); the preset chooses one variant per slot, and
    every component registered for that slot and variant becomes a row. The
    variant with `default=True` is used when a preset does not choose.

    `params` and `flops` count one instance. `multiplicity` is a formula for
    how many instances the model holds: 1 by default, `num_layers` with
    `per_layer=True` (a shorthand), or any formula over the inputs, such as
    the MoE layers `num_layers - first_dense_layers` or the sliding-window
    layers of a pattern. `flops` is the forward pass over one sequence of
    context_length tokens. A matrix
    multiply states `shape` = (m, k, n) for (m×k)·(k×n), and `batch` when the
    same product runs once per head; its FLOPs must then equal 2·batch·m·k·n.

    A linear layer that may carry a bias states its length in `bias` (its
    output width); the preset's `biases` list turns it on, adding it to
    `params`. `requires` names inputs that must hold for this variant even if
    no formula reads them, e.g. `queries_per_kv`, which must divide.

    Training and inference columns, each for one instance over one sequence:
    `activations` maps an activation convention (`cs336`, `korthikanti`, ...;
    `*` for all) to the bytes it keeps for the backward pass (formulas read
    `activation_bytes`); `flops_backward` defaults to 2 × `flops`;
    `flops_decode` is the FLOPs of one new token at position `decode_position`
    with a KV cache, by default `flops` / context_length, which is right for
    every row whose cost is linear in T (attention rows must state theirs);
    `kv_cache` is the elements one instance holds in the KV cache for one
    sequence of context_length tokens (a windowed layer holds at most its
    window).

    What core needs to know of a row it reads from flags, never from names:
    `embedding_table` marks a lookup table and `unembedding` the LM head's
    weight, the de-embedding (both left out of the non-embedding parameters
    that Kaplan's convention counts, tied or not); `attention_product`
    marks a product over the sequence (QKᵀ, attention·V: the causal convention
    halves them). `params_active` is the parameters one token's forward pass
    uses (an MoE layer's k of E experts; by default all of `params`).
    `tensor_parallel` says how the row divides over tensor-parallel ranks, as
    Megatron-LM's layers divide it: "column" (ColumnParallelLinear: the weight
    and its bias split), "row" (RowParallelLinear: the weight splits, its bias
    stays whole on every rank, added after the all-reduce), "vocab"
    (VocabParallelEmbedding: the table splits), "replicated" (whole on every
    rank: norms, a learned position table, which Megatron keeps as a plain
    torch.nn.Embedding, a router). By default a matrix multiply is "column", a
    lookup table "vocab", any other row "replicated".
    `flops_dense` is what a dense kernel computes where `flops` counts less (a
    sliding-window product over min(W, T) keys instead of T); the `dense`
    convention counts it.
    `tensors` is how many parameter tensors one instance holds, as PyTorch
    counts them (a weight and its bias are two; N_n norms are N_n): by
    default 1 for a row with parameters (2 with its bias turned on), 0
    without. AdamW keeps a step counter per tensor, and its one-tensor-at-a-time
    step allocates temporaries the size of the largest one (acct.model.phases).
    `buffers` is the bytes of the tensors one instance registers that are not
    trained (PyTorch's buffers: RoPE's inverse frequencies). `kept_once` maps an
    activation convention to bytes one instance keeps for backward once per
    step, not per sequence (RoPE's cos and sin tables, shared by the batch).
    `flops_other` counts the non-matmul FLOPs the row performs (softmax,
    norms, activation functions, residual adds, RoPE), at a stated number of
    FLOPs per element; reports show them only when asked (--non-matmul).
    """

    name: str
    slot: str
    variant: str
    group: str
    params: FormulaText
    flops: FormulaText
    per_layer: bool = False
    multiplicity: Optional[FormulaText] = None  # default: num_layers when per_layer, else 1
    shape: Optional[Tuple[FormulaText, FormulaText, FormulaText]] = None
    batch: Optional[FormulaText] = None
    description: str = ""
    default: bool = False
    note: str = ""  # shown under the tables, e.g. "the LM head shares the embedding's weight"
    bias: Optional[FormulaText] = None  # the bias vector's length, for a preset that turns biases on
    requires: Tuple[str, ...] = ()  # inputs that must be evaluated (and so checked) when this row is chosen
    activations: Mapping[str, FormulaText] = fresh(dict)
    flops_backward: Optional[FormulaText] = None
    flops_decode: Optional[FormulaText] = None
    kv_cache: FormulaText = 0
    # the devices one instance's KV cache is divided among when `gpus` devices split the model by
    # tensor parallelism; default gpus (each holds 1/gpus). Fewer KV heads than devices replicate
    # heads: min(gpus, num_kv_heads); a cache every device needs whole (MLA's latent): 1
    kv_split: Optional[FormulaText] = None
    flops_other: FormulaText = 0  # non-matmul FLOPs (softmax, norms, activations, residual adds), opt-in
    params_active: Optional[FormulaText] = None  # parameters one token uses; default: params
    embedding_table: bool = False  # a lookup table: not in the non-embedding parameters
    unembedding: bool = False  # the LM head's D×V weight (the de-embedding): not in the non-embedding parameters
    attention_product: bool = False  # QKᵀ or attention·V: the products over the sequence
    # "column", "row", "vocab" or "replicated" (see above); None: inferred from shape and embedding_table
    tensor_parallel: Optional[str] = None
    flops_dense: Optional[FormulaText] = None  # FLOPs of a dense kernel, where flops counts a sparse one
    # other slots' variants this row only makes sense with (MLA's products with MLA's projections):
    # slot -> the variants allowed; a model choosing another is an error naming both
    requires_variants: Mapping[str, Tuple[str, ...]] = fresh(dict)
    tensors: Optional[FormulaText] = None  # parameter tensors per instance; default 1 with params (2 with a bias)
    buffers: FormulaText = 0  # bytes of the non-trainable tensors (torch buffers) one instance registers
    # bytes kept for backward once per step whatever the batch (RoPE's cos and sin), by activation convention
    kept_once: Mapping[str, FormulaText] = fresh(dict)


@record(frozen=True)
class Hardware:
    """An accelerator: its memory, memory bandwidth and peak dense FLOP/s per dtype.

    Numbers are exact: ints, or decimal strings such as "19.5e12" (read as exact
    fractions). `source` cites the vendor's datasheet.
    """

    name: str
    description: str
    memory: Union[int, str]  # bytes
    bandwidth: Union[int, str]  # bytes per second
    flops: Mapping[str, Union[int, str]]  # dtype -> peak dense FLOP/s
    source: str = ""
    # for collectives across devices: one device's bandwidth to its node's other devices (NVLink,
    # bytes/s each way) and to other nodes (its share of the network, bytes/s); devices per node
    link_bandwidth: Optional[Union[int, str]] = None
    network_bandwidth: Optional[Union[int, str]] = None
    gpus_per_node: Optional[int] = None
    price_per_hour: Optional[Union[int, str]] = None  # dollars per device-hour, e.g. "2.5"


@record(frozen=True)
class Convention:
    """A named way of counting a model's FLOPs, as formulas over the sheet.

    `forward` and `training` are formulas for one step of batch_size sequences.
    Besides the inputs they may read `flops_matmul` (acct's matmul count of one
    forward pass of one sequence), `flops_attention` (its QKᵀ and attention·V
    part), `params_total` and `params_nonembedding` (without the token and
    position tables and the LM head: the rows marked `embedding_table` or
    `unembedding`), `params_active` and `params_active_nonembedding`.
    """

    name: str
    description: str
    source: str
    forward: FormulaText
    training: FormulaText
    default: bool = False  # the baseline other conventions are compared with (one per registry)


@record(frozen=True)
class ActivationConvention:
    """A named way of counting the activations a training step keeps for the backward pass.

    Component rows give a formula per convention name in their `activations`
    (or `*` for every convention); `default=True` marks the convention used
    when a preset chooses none (one per registry).

    `phases=True` marks a convention that counts what PyTorch's autograd keeps (its rows'
    formulas are bytes of real tensors): the step's peak is then computed phase by phase
    (acct.model.phases: forward, backward, optimizer step, each with its transients) instead
    of as one sum of weights, states and activations.
    """

    name: str
    description: str
    default: bool = False
    phases: bool = False


@record(frozen=True)
class Importer:
    """Turns a Hugging Face config.json of one `model_type` into a preset.

    `convert(config)` receives an `acct.model.importers.Conversion`: it reads the
    config's fields (`config.integer("hidden_size")`, `config.flag(...)`,
    `config.get(...)`) and sets inputs, variants and biases, each with the
    config fields it came from (`config.set("d_model", value, "hidden_size")`),
    which `acct import` writes as the TOML value's comment.

    Every key of the config.json must be declared, so that no field can change
    a count unseen: `maps` are the fields `convert` reads (it may read no
    other); `ignores` the fields known not to change any count (eps, rope
    settings other than partial rotary, dropout, token ids, ...); `fixed` the
    fields that would change a count but that the importer does not map,
    with the one value at which they change nothing (the config class's
    default): a field absent, null or at that value is fine, any other value
    stops the import. Any key in none of them stops the import too, naming it.
    Keys describing the file, not the model (architectures, torch_dtype, token
    ids, ...: `acct.model.importers.METADATA`) need no declaration.
    """

    model_type: str
    description: str
    convert: Callable[[Any], None]
    maps: Tuple[str, ...] = ()
    ignores: Tuple[str, ...] = ()
    fixed: Mapping[str, Any] = fresh(dict)

    @property
    def name(self) -> str:
        """Importers are registered and looked up by their model_type."""
        return self.model_type
