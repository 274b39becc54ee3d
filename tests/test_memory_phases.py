"""A training step's memory phase by phase (acct.model.phases), against PyTorch's own memory tracker.

The anchors are PyTorch's measurements (MemTracker under FakeTensorMode, torch 2.13, transformers 5.24,
../shared/oracle/memtrack.py) of Llama-3.2-1B at T = 2,048, batch 1, AdamW one tensor at a time: acct's
formulas give them to the byte. The cross-check draws Llama shapes at random and measures each with
tests/oracle/memtrack.py in this process (skipped without torch and transformers).
"""

import json

import pytest

import acct
from acct.errors import AcctError

LLAMA_1B = "tests/data/hf/llama-3.2-1b.json"
IMPLS = {"forloop": 0, "foreach": 1, "fused": 2}


def cells(source, precision, activations, **values):
    model = acct.load(source, precision=precision, activations=activations,
                      set={name: str(value) for name, value in values.items()})
    return model._model(("train", "memory", "convention")).sheet.evaluate()


# PyTorch's numbers (memtrack.py, the table): amp, T 2,048, forloop
PYTORCH_SDPA = {"forward_backward": 15_177_629_960, "optimizer_step": 21_874_377_548, "pre_backward_act": 8_133_042_196}
PYTORCH_EAGER_PEAK = 27_924_119_816


def test_llama_1b_sdpa_every_phase_equals_pytorch():
    v = cells(LLAMA_1B, "amp", "sdpa", context_length=2048)
    assert v["memory.phase.forward_backward"] == PYTORCH_SDPA["forward_backward"]
    assert v["memory.phase.optimizer"] == PYTORCH_SDPA["optimizer_step"]
    assert v["memory.kept"] == PYTORCH_SDPA["pre_backward_act"]  # what backward starts from
    assert v["memory.peak"] == PYTORCH_SDPA["optimizer_step"]
    # by hand: weights and gradients 4 B each × 1,235,814,400, the moments 8 B; 146 step counters; the
    # forloop's sqrt and quotient of the largest tensor (the tied 128,256 × 2,048 table) in fp32; 256 B of
    # RoPE buffers; the loss the loop still holds
    assert v["memory.phase.optimizer"] == 16 * 1_235_814_400 + 4 * 146 + 8 * 128_256 * 2048 + 256 + 4


def test_llama_1b_eager_peak_equals_pytorch_and_is_at_the_start_of_backward():
    v = cells(LLAMA_1B, "amp", "eager", context_length=2048)
    assert v["memory.peak"] == PYTORCH_EAGER_PEAK
    assert v["memory.phase.backward_start"] == PYTORCH_EAGER_PEAK
    # eager keeps each layer's fp32 softmax (4·H·T²) and its bf16 copy (2·H·T²) instead of sdpa's mask
    # (2·T²) and log-sum-exp (4·H·T): 16 layers, H = 32
    sdpa = cells(LLAMA_1B, "amp", "sdpa", context_length=2048)
    per_layer = 6 * 32 * 2048 ** 2 - 2 * 2048 ** 2 - 4 * 32 * 2048
    assert v["memory.kept"] - sdpa["memory.kept"] == 16 * per_layer


def test_the_cli_reports_each_phase_peak_in_json_and_names_its_assumptions(cli):
    status, out, err = cli("train", LLAMA_1B, "--set", "context_length=2048", "--precision", "amp",
                           "--activations", "sdpa", "--optimizer-impl", "forloop", "-f", "json")
    assert status == 0, err
    data = json.loads(out)
    assert data["memory_bytes"]["peak"] == PYTORCH_SDPA["optimizer_step"]
    assert data["memory_phases"]["forward_backward_peak"] == PYTORCH_SDPA["forward_backward"]
    assert data["memory_phases"]["optimizer_step_peak"] == PYTORCH_SDPA["optimizer_step"]
    assert data["memory_expression"] is None  # a max of phases is not a·B + b
    status, out, err = cli("train", LLAMA_1B, "--set", "context_length=2048", "--precision", "amp",
                           "--activations", "eager")
    assert status == 0, err
    first = out.split("\n\n")[1]
    assert "precision amp (fp32 weights" in first and "counted as eager" in first and "forloop" in first
    assert "| **forward + backward** (the largest of the three)" in out


def test_optimizer_implementations_by_hand():
    """foreach makes sqrt(v̂) of every tensor at once (P values in the moments' dtype); fused nothing."""
    loop, each, fused = (cells(LLAMA_1B, "fp32", "sdpa", context_length=64, optimizer_impl=i) for i in (0, 1, 2))
    params = 1_235_814_400
    assert each["memory.phase.optimizer"] - fused["memory.phase.optimizer"] == 4 * params
    assert loop["memory.phase.optimizer"] - fused["memory.phase.optimizer"] == 8 * 128_256 * 2048
    bf16 = cells(LLAMA_1B, "bf16", "sdpa", context_length=64, optimizer_impl=1)
    assert bf16["memory.optimizer_transient"] == 2 * params


def test_a_bad_optimizer_implementation_is_one_line(cli):
    status, out, err = cli("train", LLAMA_1B, "--set", "optimizer_impl=3", "--activations", "sdpa")
    assert status == 1 and "the optimizer implementation is 0 (forloop), 1 (foreach) or 2 (fused), got 3" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(AcctError, match="--optimizer-impl: one of forloop, foreach, fused"):
        acct.load(LLAMA_1B).train(optimizer_impl="cuda")


def test_phases_are_cells_a_sweep_varies(cli):
    status, out, err = cli("sweep", LLAMA_1B, "--precision", "amp", "--activations", "sdpa",
                           "--vary", "context_length=1024,2048", "--output", "memory.peak", "-f", "json")
    assert status == 0, err
    points = json.loads(out)["points"]
    assert points[1]["outputs"]["memory.peak"] == PYTORCH_SDPA["optimizer_step"]


def test_a_model_with_rows_pytorch_conventions_do_not_count_says_which(cli):
    status, out, err = cli("train", "gpt2-xl", "--activations", "sdpa")  # SwiGLU and RMSNorm: counted
    assert status == 0, err
    assert "Phases of the step" in out
    status, out, err = cli("train", "tests/data/hf/gpt2.json", "--activations", "sdpa")
    assert status == 0, err
    assert "Activations are not counted" in out and "for the convention 'sdpa'" in out


# -- the cross-check: random Llama shapes, measured by PyTorch in this process --------------------------

torch_settings = None
try:
    from hypothesis import HealthCheck, given, settings, strategies as st

    from hypothesis import Phase

    # no shrinking: one step of a shrunk model per example is cheap, a shrink is hundreds of them
    torch_settings = settings(max_examples=12, deadline=None, derandomize=True, phases=[Phase.generate],
                              suppress_health_check=list(HealthCheck))
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass


@pytest.fixture(scope="module")
def measure():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.oracle.memtrack import measure

    return measure


def llama_config(kv_heads, groups, head, layers, ffn, vocab, tied, bias):
    heads = kv_heads * groups
    return {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": heads * head,
            "num_attention_heads": heads, "num_key_value_heads": kv_heads, "head_dim": head,
            "intermediate_size": ffn, "num_hidden_layers": layers, "vocab_size": vocab,
            "tie_word_embeddings": tied, "attention_bias": False, "mlp_bias": bias,
            "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
            "hidden_act": "silu", "attention_dropout": 0.0}


def check(measure, tmp_path, config, tokens, batch, precision, attention, impl, exact=True):
    """acct's phases against PyTorch's: the optimizer step to the byte; forward + backward to the byte, or
    (exact=False, for shapes drawn at random) within 3%: about one shape in five (small vocabularies against
    long sequences) peaks inside a layer's backward, which acct does not model yet (its moments are the
    loss, the start and the end of backward) — issue #22 stays open for it."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    pytorch = measure(config, tokens, batch, precision, attention, impl)
    v = cells(str(path), precision, attention, context_length=tokens, batch_size=batch,
              optimizer_impl=IMPLS[impl])
    assert v["memory.phase.optimizer"] == pytorch["optimizer_step"]["total"]
    measured = pytorch["forward_backward"]["total"]
    if exact:
        assert v["memory.phase.forward_backward"] == measured
    else:
        assert abs(v["memory.phase.forward_backward"] - measured) * 100 <= 3 * measured
    assert v["memory.weights"] == pytorch["optimizer_step"]["param"]
    assert v["memory.gradients"] == pytorch["optimizer_step"]["grad"]


@pytest.mark.parametrize("precision", ["fp32", "amp", "bf16"])
@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_every_precision_and_kernel_equals_pytorch(measure, tmp_path, precision, attention):
    config = llama_config(kv_heads=2, groups=2, head=16, layers=2, ffn=96, vocab=500, tied=True, bias=False)
    check(measure, tmp_path, config, 40, 2, precision, attention, "forloop")


if torch_settings is not None:
    @torch_settings
    @given(kv_heads=st.integers(1, 3), groups=st.integers(1, 3), head=st.sampled_from([8, 16, 32]),
           layers=st.integers(1, 3), ffn=st.integers(8, 200), vocab=st.integers(50, 3000),
           tied=st.booleans(), bias=st.booleans(), tokens=st.integers(2, 160), batch=st.integers(1, 3),
           precision=st.sampled_from(["fp32", "amp", "bf16"]), attention=st.sampled_from(["sdpa", "eager"]),
           impl=st.sampled_from(list(IMPLS)))
    def test_random_llama_shapes_equal_pytorch(measure, tmp_path_factory, kv_heads, groups, head, layers, ffn,
                                               vocab, tied, bias, tokens, batch, precision, attention, impl):
        config = llama_config(kv_heads, groups, head, layers, ffn, vocab, tied, bias)
        check(measure, tmp_path_factory.mktemp("shape"), config, tokens, batch, precision, attention, impl,
              exact=False)


def test_a_plugins_bad_phase_field_names_the_plugin_and_field(cli, tmp_path):
    plugin = tmp_path / "badplug.py"
    plugin.write_text(
        "from acct import Component, hookimpl\n\n@hookimpl\ndef acct_register_components(register):\n"
        "    register(Component(name='extra_gain', slot='extra', variant='x', group='norms', params='d_model',\n"
        "                       flops=0, default=True, activations={'*': 0}, buffers='4 *'))\n")
    status, out, err = cli("train", "gpt2-xl", "--activations", "sdpa", "-p", str(plugin))
    assert status == 1
    assert "component 'extra_gain' buffers: syntax error in formula '4 *'" in err
    assert len(err.strip().splitlines()) == 1
