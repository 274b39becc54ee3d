"""Hugging Face config.json files in: their published counts, transformers' own counts, the TOML round trip,
and every way a config is refused (one line, exit 1)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from acct.model.config import load_preset
from acct.model.model import TOTAL_FLOPS, TOTAL_PARAMS, build_model
from acct.model.sources import load_source
from conftest import ROOT

DATA = ROOT / "tests" / "data" / "hf"
CONFIGS = sorted(path.stem for path in DATA.glob("*.json"))

# transformers 5.24's sum(p.numel()) on the meta device (tests/data/hf/COUNTS.md): the published count
# wherever one is published exactly (COUNTS.md says which)
COUNTS = {
    "deepseek-r1": 671_026_404_352,
    "deepseek-v2-lite": 15_706_484_224,
    "deepseek-v2.5": 235_741_434_880,
    "falcon-7b-instruct": 6_921_720_704,
    "gemma-2-2b": 2_614_341_888,
    "gemma-2b": 2_506_172_416,
    "gemma-3-1b-pt": 999_885_952,
    "gpt-j-6b": 6_050_882_784,
    "gpt2": 124_439_808,
    "llama-3.2-1b": 1_235_814_400,
    "mistral-7b-v0.1": 7_241_732_096,
    "mixtral-8x7b-v0.1": 46_702_792_704,
    "olmo-1b-hf": 1_176_764_416,
    "olmo-2-0425-1b": 1_484_916_736,
    "phi-2": 2_779_683_840,
    "phi-3-mini-4k-instruct": 3_821_079_552,
    "pythia-1b": 1_011_781_632,
    "qwen1.5-moe-a2.7b": 14_315_784_192,
    "qwen2-0.5b": 494_032_768,
    "qwen3-0.6b": 596_049_920,
    "qwen3-30b-a3b": 30_532_122_624,
    "starcoder2-3b": 3_030_371_328,
}
# Where acct counts what transformers' parameters() does not: DeepSeek-V3's router holds
MOE = {"deepseek-r1", "deepseek-v2-lite", "deepseek-v2.5", "mixtral-8x7b-v0.1", "qwen1.5-moe-a2.7b",
       "qwen3-30b-a3b"}
# The red-team pass's configs of other real models (tests/data/hf/COUNTS.md, "Other real models"), each
# chosen for a field the ones above do not exercise: transformers 5.24's sum(p.numel()) on the meta device
COUNTS.update({
    "deepseek-v2": 235_741_434_880,
    "deepseek-v2-lite-chat": 15_706_484_224,
    "distilgpt2": 81_912_576,
    "deepseek-v3-0324": 671_026_404_352,
    "falcon-11b": 10_836_484_096,
    "falcon-40b": 41_303_293_952,
    "gemma-2-27b": 27_227_128_320,
    "gemma-2-9b": 9_241_705_984,
    "gemma-3-12b-text": 11_766_034_176,
    "gemma-3-270m": 268_098_176,
    "gemma-3-4b-text": 3_880_263_168,
    "gemma-7b": 8_537_680_896,
    "gpt-neox-20b": 20_554_567_680,
    "gpt2-medium": 354_823_168,
    "gpt4all-j": 6_050_882_784,
    "huggyllama-llama-7b": 6_738_415_616,
    "llama-2-7b-hf": 6_738_415_616,
    "llama-3.1-70b": 70_553_706_496,
    "meta-llama-3-8b": 8_030_261_248,
    "mistral-7b-v0.3": 7_248_023_552,
    "mistral-nemo-base-2407": 12_247_782_400,
    "mixtral-8x22b-v0.1": 140_620_634_112,
    "moonlight-16b-a3b": 15_960_108_544,
    "olmo-1.7-7b-hf": 6_888_095_744,
    "olmo-2-0325-32b": 32_234_279_936,
    "olmo-2-1124-13b": 13_716_198_400,
    "olmo-2-1124-7b": 7_298_617_344,
    "olmo-7b-hf": 6_888_095_744,
    "phi-1_5": 1_418_270_720,
    "phi-3-medium-4k-instruct": 13_960_238_080,
    "phi-3.5-mini-instruct": 3_821_079_552,
    "phi-4": 14_659_507_200,
    "phi-4-mini-instruct": 3_836_021_760,
    "pythia-410m": 405_334_016,
    "pythia-6.9b": 6_857_302_016,
    "pythia-70m": 70_426_624,
    "qwen2-57b-a14b": 57_408_658_944,
    "qwen2.5-0.5b": 494_032_768,
    "qwen2.5-7b": 7_615_616_512,
    "qwen3-235b-a22b": 235_093_634_560,
    "qwen3-8b": 8_190_735_360,
    "starcoder2-15b": 15_655_899_136,
    "starcoder2-7b": 7_173_923_840,
    "tinyllama-1.1b": 1_100_048_384,
})
MOE |= {"deepseek-v2", "deepseek-v2-lite-chat", "deepseek-v3-0324", "mixtral-8x22b-v0.1", "moonlight-16b-a3b",
        "qwen2-57b-a14b", "qwen3-235b-a22b"}
# More model types (plugins/hf_granite.py, plugins/hf_more.py; tests/data/hf/COUNTS.md, "More model types"):
# transformers 5.24's sum(p.numel()) on the meta device, equal to the published count where COUNTS.md names one
COUNTS.update({
    "granite-3.0-2b-base": 2_533_531_648,
    "granite-3.0-1b-a400m-base": 1_334_628_352,
    "olmoe-1b-7b-0924": 6_919_161_856,
    "command-r-v01": 34_980_831_232,
    "c4ai-command-r-plus": 103_810_674_688,  # use_qk_norm: a gain per head for q (96·128) and k (8·128)
    "c4ai-command-r7b-12-2024": 8_028_033_024,
    "stablelm-2-1_6b": 1_644_515_328,
    "stablelm-2-12b": 12_143_185_920,
    "minitron-4b-base": 4_190_509_056,
    "gpt-neo-125m": 125_198_592,  # the published 125M: 50,257·768 + 2,048·768 + 12 layers + final LayerNorm
    "opt-125m": 125_239_296,
    "opt-6.7b": 6_658_473_984,
    "starcoderbase-1b": 1_137_207_296,
    "glm-4-9b-hf": 9_399_951_360,
    "glm-4-9b-0414": 9_400_279_040,
    "helium-1-preview-2b": 2_172_643_840,
    "smollm3-3b": 3_075_098_624,
    "exaone-4.0-1.2b": 1_279_391_488,
    "exaone-4.0-32b": 32_003_216_384,
    "ernie-4.5-0.3b-pt": 360_748_032,
    "hunyuan-7b-instruct": 7_504_568_320,
    "seed-oss-36b-base": 36_151_104_512,
    "afm-4.5b-base": 4_619_184_640,
    "apertus-8b-2509": 8_053_338_176,  # 2 of them per layer are xIELU's alpha_p and alpha_n
    "olmo-3-1025-7b": 7_298_011_136,
    # the published 20.9B: with 64 sinks per layer, q/k/v/o, router and expert biases
    "gpt-oss-20b": 20_914_757_184,
    "glm-4.5-air": 106_852_245_504,  # the published 106B (the MTP layer is not built, as for DeepSeek-V3)
    "ernie-4.5-21b-a3b-pt": 21_825_437_888,
    "phi-3.5-moe-instruct": 41_873_153_344,  # the published 41.9B
})
MOE |= {"granite-3.0-1b-a400m-base", "olmoe-1b-7b-0924", "gpt-oss-20b", "glm-4.5-air", "ernie-4.5-21b-a3b-pt",
        "phi-3.5-moe-instruct"}


def config(name):
    return json.loads((DATA / f"{name}.json").read_text())


def acct_counts(source, registry, **overrides):
    preset = source if not isinstance(source, (str, Path)) else load_source(source, lambda: registry)
    values = build_model(preset, registry, overrides, outputs=()).sheet.evaluate()
    return values[TOTAL_PARAMS], values[TOTAL_FLOPS]


def write(tmp_path, data, name="config.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_every_config_has_its_count():
    assert sorted(COUNTS) == CONFIGS


@pytest.mark.parametrize("name", CONFIGS)
def test_published_count(registry, name):
    params, _ = acct_counts(DATA / f"{name}.json", registry)
    assert params == COUNTS[name]


@pytest.mark.parametrize("name", CONFIGS)
def test_round_trip_through_toml(registry, name, tmp_path, cli):
    """acct import writes a preset that gives exactly the config's numbers."""
    output = tmp_path / f"{name}.toml"
    status, out, err = cli("import", str(DATA / f"{name}.json"), "-o", str(output))
    assert (status, err) == (0, ""), err
    direct = acct_counts(DATA / f"{name}.json", registry, context_length=64)
    assert acct_counts(load_preset(output), registry, context_length=64) == direct
    assert acct_counts(load_preset(output), registry) == acct_counts(DATA / f"{name}.json", registry)


def test_import_comments_name_the_fields(cli):
    status, out, _ = cli("import", str(DATA / "llama-3.2-1b.json"))
    assert status == 0
    assert "num_kv_heads = 8  # num_key_value_heads\n" in out
    assert "context_length = 131072  # max_position_embeddings\n" in out
    assert 'lm_head = "tied"  # tie_word_embeddings = true\n' in out
    assert "# d_head = 64 (head_dim) is d_model / num_heads, the default\n" in out


# -- the same file built by transformers ------------------------------------------

_BUILT: dict = {}


def hf_counts(name, data, device, flops=True):
    """transformers' params and (with `flops`) forward FLOPs at 64 tokens, built once per config and device."""
    key = (name, device, flops)
    if key not in _BUILT:
        from hf_reference import hf_flops, hf_model, hf_params

        model = hf_model(data, device=device)
        _BUILT[key] = (hf_params(model), hf_flops(model, 64, device=device)[0] if flops else None)
    return _BUILT[key]


# the configs whose whole model builds and counts on the meta device in well under a second
SMALL_ENOUGH = {"gpt2", "gpt2-medium", "distilgpt2", "pythia-70m", "pythia-410m", "qwen2-0.5b", "qwen2.5-0.5b",
                "qwen3-0.6b", "gemma-3-270m", "gemma-3-1b-pt", "llama-3.2-1b", "olmo-1b-hf", "tinyllama-1.1b",
                "deepseek-v2-lite", "mixtral-8x7b-v0.1", "qwen1.5-moe-a2.7b"}
# (GPT-Neo among them: its attention_types lists every layer, so it is not cut to its first layers)
SMALL_ENOUGH |= {"gpt-neo-125m", "opt-125m", "starcoderbase-1b", "stablelm-2-1_6b", "granite-3.0-1b-a400m-base",
                 "ernie-4.5-0.3b-pt", "exaone-4.0-1.2b"}


def first_layers(data, count):
    """The config with only its first `count` layers (and their layer types, where listed)."""
    shortened = dict(data)
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        if key in data and data[key] > count:
            shortened[key] = count
    for key in ("layer_types", "no_rope_layers"):  # one entry per layer
        if isinstance(data.get(key), list):
            shortened[key] = data[key][:count]
    return shortened


def tiny(data):
    """A small config of the same structure: routing reads values, so MoE models run for real."""
    small = dict(data)
    heads = 4
    kv = data.get("num_key_value_heads") or data["num_attention_heads"]
    sizes = {
        "hidden_size": 64, "intermediate_size": 96, "moe_intermediate_size": 32,
        "shared_expert_intermediate_size": 48, "vocab_size": 256, "num_attention_heads": heads,
        "num_key_value_heads": heads if kv == data["num_attention_heads"] else 2, "head_dim": 16,
        "num_experts": 8, "num_local_experts": 8, "n_routed_experts": 8, "num_experts_per_tok": 2,
        "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16,
        "max_position_embeddings": 128, "n_group": 2, "topk_group": 1,
    }
    for key, value in sizes.items():
        if key in data:
            small[key] = value
    if data.get("q_lora_rank"):
        small["q_lora_rank"] = 24
    small["num_hidden_layers"] = data.get("first_k_dense_replace", 0) + 2
    for key in ("layer_types", "no_rope_layers"):  # one entry per layer
        if isinstance(data.get(key), list):
            small[key] = data[key][:small["num_hidden_layers"]]
    if isinstance(data.get("pad_token_id"), int) and data["pad_token_id"] >= small["vocab_size"]:
        small["pad_token_id"] = 0  # within the tiny vocabulary
    scaling = data.get("rope_scaling")
    if isinstance(scaling, dict) and isinstance(scaling.get("long_factor"), list):  # LongRoPE: d_head / 2 factors
        small["rope_scaling"] = dict(scaling, long_factor=scaling["long_factor"][:8],
                                     short_factor=scaling["short_factor"][:8])
    small.pop("quantization_config", None)
    return small


@pytest.mark.parametrize("name", CONFIGS)
def test_transformers_agrees(registry, name, tmp_path):
    """transformers' model from the same file: parameters on the meta device, and forward FLOPs at 64
    tokens (FlopCounterMode; MoE models from a tiny config of the same structure, on the CPU)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    data = config(name)
    data.pop("quantization_config", None)
    if name in SMALL_ENOUGH:  # the whole model on the meta device, parameters and FLOPs
        params, _ = acct_counts(DATA / f"{name}.json", registry)
        hf_params_meta, hf_flops_meta = hf_counts(name, data, "meta", flops=name not in MOE)
        assert params == hf_params_meta
    else:  # the first layers of the same file: the same shapes and layer rules, a fraction of the time;
        # the whole model's count is transformers' own, recorded in COUNTS (test_published_count)
        shortened = first_layers(data, 8)
        hf_params_meta, hf_flops_meta = hf_counts(f"{name}-8", shortened, "meta", flops=name not in MOE)
        path = write(tmp_path, shortened)
        assert acct_counts(path, registry)[0] == hf_params_meta
        if name not in MOE:
            assert acct_counts(path, registry, context_length=64)[1] == hf_flops_meta
            return
    if name in MOE:
        small = tiny(data)
        hf_small_params, hf_small_flops = hf_counts(f"{name}-tiny", small, "cpu")
        small_params, small_flops = acct_counts(write(tmp_path, small), registry, context_length=64)
        assert (small_params, small_flops) == (hf_small_params, hf_small_flops)
    else:
        assert acct_counts(DATA / f"{name}.json", registry, context_length=64)[1] == hf_flops_meta


@pytest.mark.parametrize("name, windowed", [("mistral-7b-v0.1", 2), ("gemma-2-2b", 1), ("gemma-3-1b-pt", 2)])
def test_sliding_window_beyond_the_context(registry, name, windowed, tmp_path):
    """The documented difference: transformers' eager attention computes every layer's T×T product
    and masks it, so FlopCounterMode sees the dense count; acct counts a windowed layer over
    min(W, T) keys, and its dense count (flops_dense, the `dense` convention's) is transformers'."""
    pytest.importorskip("transformers")
    small = dict(config(name), hidden_size=64, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
                 vocab_size=256, num_hidden_layers=3 if name == "gemma-3-1b-pt" else 2, sliding_window=16)
    if "head_dim" in small:
        small["head_dim"] = 16
    if name == "gemma-3-1b-pt":
        small["sliding_window_pattern"] = 3  # layers 0 and 1 slide, layer 2 is full
    _, hf_flops_meta = hf_counts(f"{name}-window", small, "meta")
    preset = load_source(write(tmp_path, small), lambda: registry)
    values = build_model(preset, registry, {"context_length": 64}, outputs=("convention",)).sheet.evaluate()
    assert values["flops_dense"] == hf_flops_meta
    # each windowed layer: QKᵀ and attention·V over 16 keys instead of 64, 4 heads of 16 dims
    assert values["flops_dense"] - values[TOTAL_FLOPS] == windowed * 2 * (2 * 64 * (64 - 16) * 4 * 16)


# -- refused, in one line ---------------------------------------------------------


def refused(cli, *argv):
    status, out, err = cli(*argv)
    assert status == 1 and out == "" and err.count("\n") == 1 and err.startswith("acct: error: "), (status, err)
    return err


def test_unknown_field_stops_the_import(cli, tmp_path):
    data = dict(config("llama-3.2-1b"), num_sparse_layers=4)
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert "model_type 'llama': unknown field num_sparse_layers = 4" in err
    assert "acct stops rather than risk a wrong count" in err


@pytest.mark.parametrize("name, field, value", [
    ("gpt2", "add_cross_attention", True),
    ("phi-2", "qk_layernorm", True),
    ("deepseek-r1", "moe_layer_freq", 2),
    ("gemma-2b", "use_bidirectional_attention", True),
])
def test_unmapped_value_stops_the_import(cli, tmp_path, name, field, value):
    data = dict(config(name), **{field: value})
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert f"{field} = {json.dumps(value)} changes the architecture" in err
    assert data["model_type"] in err


def test_unmapped_field_at_its_default_is_fine(registry, tmp_path):
    data = dict(config("gpt2"), add_cross_attention=False)
    assert acct_counts(write(tmp_path, data), registry)[0] == COUNTS["gpt2"]


@pytest.mark.parametrize("name, field, value, message", [
    ("falcon-7b-instruct", "alibi", True, "alibi = true (ALiBi position biases) has no acct position variant"),
    ("llama-3.2-1b", "hidden_act", "relu", 'hidden_act = "relu" is a gated MLP activation without an acct variant'),
    ("llama-3.2-1b", "hidden_size", "2048", 'hidden_size = "2048": expected a whole number of at least 1'),
    ("qwen2-0.5b", "num_key_value_heads", 3, "num_key_value_heads = 3: expected a divisor of num_attention_heads"),
    ("gpt2", "n_head", 10, "n_embd = 768: expected a multiple of n_head (10)"),
])
def test_values_acct_cannot_count(cli, tmp_path, name, field, value, message):
    data = dict(config(name), **{field: value})
    assert message in refused(cli, "run", str(write(tmp_path, data)))


def test_falcon_reads_num_kv_heads_only_in_the_new_architecture(registry, cli, tmp_path):
    data = dict(config("falcon-7b-instruct"), num_kv_heads=3)  # multi_query: one KV head, num_kv_heads unread
    assert acct_counts(write(tmp_path, data), registry)[0] == COUNTS["falcon-7b-instruct"]
    data["new_decoder_architecture"] = True
    err = refused(cli, "run", str(write(tmp_path, data, "new.json")))
    assert "model_type 'falcon': num_kv_heads = 3: expected a divisor of num_attention_heads (71)" in err


def test_unknown_model_type_lists_the_supported(cli, tmp_path):
    err = refused(cli, "run", str(write(tmp_path, {"model_type": "mamba", "hidden_size": 8})))
    assert "model_type 'mamba' has no importer" in err
    assert "supported: apertus, arcee, cohere, cohere2, deepseek_v2, deepseek_v3, ernie4_5, ernie4_5_moe, exaone4, falcon, " \
           "gemma, gemma2, gemma3_text, glm, glm4, glm4_moe, gpt2, gpt_bigcode, gpt_neo, gpt_neox, gpt_oss, gptj, granite, " \
           "granitemoe, granitemoeshared, helium, hunyuan_v1_dense, llama, mistral, mixtral, nemotron, olmo, olmo2, " \
           "olmo3, olmoe, opt, phi, phi3, phimoe, qwen2, qwen2_moe, qwen3, qwen3_moe, seed_oss, smollm3, stablelm, " \
           "starcoder2" in err
    assert "acct_register_importers" in err


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "a config.json holds a JSON object, got an array"),
    ('"llama"', "a config.json holds a JSON object, got a string"),
    ("{", "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deep"),
    ('{"hidden_size": 1}', "a config.json names its architecture in \"model_type\""),
])
def test_bad_json(cli, tmp_path, text, message):
    path = tmp_path / "config.json"
    path.write_text(text)
    assert message in refused(cli, "run", str(path))


def test_size_is_checked_before_reading(cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{" + " " * 1_000_000 + "}")
    assert "is 1,000,002 bytes; a config.json is at most 1,000,000" in refused(cli, "run", str(path))


def test_a_folder_holding_config_json(registry, tmp_path):
    folder = tmp_path / "Qwen2-0.5B"
    folder.mkdir()
    write(folder, config("qwen2-0.5b"))
    preset = load_source(folder, lambda: registry)
    assert preset.name == "Qwen2-0.5B"
    assert acct_counts(preset, registry)[0] == COUNTS["qwen2-0.5b"]


@pytest.mark.parametrize("argv", [
    ("conventions",), ("compare", str(DATA / "gpt2.json")), ("sweep", "--vary", "context_length=64,128"),
    ("train",), ("infer",), ("solve", "--largest", "batch_size", "--where", "memory.peak <= 80GB"),
])
def test_every_command_takes_a_config(cli, argv):
    command, *rest = argv
    status, out, err = cli(command, str(DATA / "llama-3.2-1b.json"), *rest)
    assert (status, err) == (0, ""), err
    assert out


def test_context_length_is_an_input(cli):
    status, out, _ = cli("run", str(DATA / "gpt2.json"), "--set", "context_length=64")
    assert status == 0
    assert "| context_length  | T        |      64 |" in out


# -- acct import -o -----------------------------------------------------------------


def test_import_never_overwrites_without_force(cli, tmp_path):
    output = tmp_path / "gpt2.toml"
    output.write_text("mine")
    assert "exists; add --force to replace it" in refused(cli, "import", str(DATA / "gpt2.json"), "-o", str(output))
    assert output.read_text() == "mine"
    status, out, _ = cli("import", str(DATA / "gpt2.json"), "-o", str(output), "--force")
    assert status == 0 and out.startswith(f"wrote {output}") and output.read_text().startswith("# Imported by acct")


def test_import_never_follows_a_symlink(cli, tmp_path):
    target = tmp_path / "elsewhere.toml"
    target.write_text("mine")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    for extra in ((), ("--force",)):
        assert "is a symbolic link" in refused(cli, "import", str(DATA / "gpt2.json"), "-o", str(link), *extra)
    assert target.read_text() == "mine"
    dangling = tmp_path / "dangling.toml"
    dangling.symlink_to(tmp_path / "nowhere.toml")
    refused(cli, "import", str(DATA / "gpt2.json"), "-o", str(dangling))
    assert not (tmp_path / "nowhere.toml").exists()


# -- hf:ORG/NAME from a local cache ---------------------------------------------------


def fake_cache(root: Path, repo: str, data: dict) -> Path:
    """The hub cache layout: models--ORG--NAME/refs/main -> a commit; snapshots/COMMIT/config.json."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    folder = root / ("models--" + repo.replace("/", "--"))
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    (folder / "snapshots" / commit).mkdir(parents=True)
    (folder / "snapshots" / commit / "config.json").write_text(json.dumps(data))
    return root


def test_hub_config_from_the_local_cache(tmp_path):
    pytest.importorskip("huggingface_hub")
    cache = fake_cache(tmp_path / "hub", "Qwen/Qwen3-0.6B", config("qwen2-0.5b"))
    env = dict(os.environ, HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1")
    script = Path(sys.executable).parent / "acct"
    result = subprocess.run([str(script), "run", "hf:Qwen/Qwen3-0.6B", "-f", "json"], capture_output=True, text=True,
                            env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["totals"]["params"] == COUNTS["qwen2-0.5b"]
    missing = subprocess.run([str(script), "run", "hf:Qwen/Missing"], capture_output=True, text=True, env=env)
    assert missing.returncode == 1
    assert missing.stderr.startswith("acct: error: hf:Qwen/Missing: no config.json of Qwen/Missing in the local "
                                     "Hugging Face cache")


# -- bundled presets and the plugin listing ---------------------------------------------


def test_bundled_preset_by_name_from_any_folder(tmp_path):
    script = Path(sys.executable).parent / "acct"
    result = subprocess.run([str(script), "run", "gpt2-xl", "-f", "csv"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2127057600" in result.stdout


def test_presets_lists_the_bundled_ones(cli):
    status, out, _ = cli("presets")
    assert status == 0
    rows = {cells[0]: cells[1] for cells in (
        [cell.strip() for cell in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| "))}
    assert rows["gpt2-xl"] == "2,127,057,600"
    assert rows["llama-3-8b"] == "8,030,261,248"


def test_unknown_preset_name(cli):
    err = refused(cli, "run", "gpt2-xxl")
    assert "gpt2-xxl: no such preset file, config.json, folder, or bundled preset" in err
    assert "acct presets" in err


def test_plugins_lists_the_importers(cli):
    status, out, _ = cli("plugins")
    assert status == 0
    assert "importer llama" in out and "importer deepseek_v3" in out
    assert "Hugging Face config.json importers (model_type): apertus, arcee, cohere, cohere2, deepseek_v2," in out


def test_a_plugin_adds_an_importer(cli, tmp_path):
    plugin = tmp_path / "tiny_importer.py"
    plugin.write_text(
        "import acct\n"
        "def convert(c):\n"
        "    c.set('vocab_size', c.integer('vocab'), 'vocab')\n"
        "    for name in ('context_length', 'num_layers', 'd_model', 'num_heads', 'd_ff'):\n"
        "        c.set(name, c.integer(name), name)\n"
        "@acct.hookimpl\n"
        "def acct_register_importers(register):\n"
        "    register(acct.Importer('tiny', 'a tiny test model', convert,\n"
        "        maps=('vocab', 'context_length', 'num_layers', 'd_model', 'num_heads', 'd_ff'),\n"
        "        ignores=('eps',)))\n"
    )
    data = {"model_type": "tiny", "vocab": 10, "context_length": 4, "num_layers": 1, "d_model": 8, "num_heads": 2,
            "d_ff": 16, "eps": 1e-5}
    status, out, err = cli("run", str(write(tmp_path, data)), "-p", str(plugin), "-f", "json")
    assert status == 0, err
    # 10·8 embedding + 4·64 attention + 3·8·16 SwiGLU + 2·8 norms + 8 final + 8·10 head
    assert json.loads(out)["totals"]["params"] == 80 + 256 + 384 + 16 + 8 + 80


def test_an_importer_reading_an_undeclared_field_is_its_bug(cli, tmp_path):
    plugin = tmp_path / "sloppy.py"
    plugin.write_text(
        "import acct\n"
        "def convert(c):\n"
        "    c.integer('secret')\n"
        "@acct.hookimpl\n"
        "def acct_register_importers(register):\n"
        "    register(acct.Importer('sloppy', 'reads what it does not declare', convert))\n"
    )
    err = refused(cli, "run", str(write(tmp_path, {"model_type": "sloppy"})), "-p", str(plugin))
    assert "importer 'sloppy' reads the field 'secret', which it does not declare in maps" in err


def test_the_wheel_ships_the_presets_and_its_name(tmp_path):
    """pip install . puts the presets in acct/presets/: `acct run gpt2-xl` from any folder; the
    distribution is acct-lm (the name acct on the package index is another project's)."""
    # built from a copy of what the build reads: setuptools keeps build/lib in the tree it builds, and a module
    # deleted since an earlier build would ship from there
    source = tmp_path / "source"
    for name in ("core", "plugins", "presets"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "wheel"), str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    assert wheel.name.startswith("acct_lm-")
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                              str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    assert sorted(path.name for path in (target / "acct" / "presets").glob("*.toml")) == sorted(
        path.name for path in (ROOT / "presets").glob("*.toml"))
    # every plugin module, each kind's folder included (a subpackage missing from pyproject.toml's list is not shipped)
    assert sorted(str(path.relative_to(target / "acct" / "plugins")) for path in (target / "acct" / "plugins").rglob(
        "*.py")) == sorted(str(path.relative_to(ROOT / "plugins")) for path in (ROOT / "plugins").rglob("*.py"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = ("import sys, acct, acct.cli; assert acct.__file__.startswith(sys.argv[1]), acct.__file__; "
             "sys.exit(acct.cli.main(['run', 'gpt2-xl', '-f', 'csv']))")
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True, cwd=elsewhere,
                            env=env)
    assert result.returncode == 0, result.stderr
    assert "2127057600" in result.stdout


@pytest.mark.parametrize("extra, expected", [
    ({"partial_rotary_factor": 0.5}, 'rotary_fraction = "1/2"  # partial_rotary_factor: int(64·0.5) = 32'),
    ({"rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.25}},
     'rotary_fraction = "1/4"  # rope_parameters.partial_rotary_factor: int(64·0.25) = 16'),
    ({"rope_scaling": {"rope_type": "linear", "factor": 2.0, "partial_rotary_factor": 0.75}},
     'rotary_fraction = "3/4"  # rope_scaling.partial_rotary_factor'),
    ({"rope_parameters": {"full_attention": {"partial_rotary_factor": 0.5},
                          "sliding_attention": {"partial_rotary_factor": 0.5}}},
     'rotary_fraction = "1/2"  # rope_parameters.full_attention.partial_rotary_factor'),
])
def test_partial_rotary_wherever_transformers_reads_it(cli, tmp_path, extra, expected):
    status, out, err = cli("import", str(write(tmp_path, dict(config("llama-3.2-1b"), **extra))))
    assert status == 0, err
    assert expected in out


def test_partial_rotary_differing_by_layer_kind_is_refused(cli, tmp_path):
    extra = {"rope_parameters": {"full_attention": {"partial_rotary_factor": 0.5},
                                 "sliding_attention": {"partial_rotary_factor": 1.0}}}
    err = refused(cli, "import", str(write(tmp_path, dict(config("llama-3.2-1b"), **extra))))
    assert "rotate different shares of the heads in different layers" in err


def test_import_reads_only_configs(cli):
    err = refused(cli, "import", str(ROOT / "presets" / "gpt2-xl.toml"))
    assert "acct import reads a Hugging Face config.json" in err


GRANITE = {"model_type": "granite", "architectures": ["GraniteForCausalLM"], "vocab_size": 49155,
           "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 40, "num_attention_heads": 32,
           "num_key_value_heads": 8, "max_position_embeddings": 4096, "tie_word_embeddings": True,
           "attention_bias": False, "mlp_bias": False, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
           "embedding_multiplier": 12.0, "residual_multiplier": 0.22, "attention_multiplier": 0.015625,
           "logits_scaling": 8.0, "hidden_act": "silu", "attention_dropout": 0.0}


def test_the_readme_importer_plugin_counts_what_transformers_builds(registry, cli, tmp_path):
    """examples/granite-importer/granite.py, the README's example of an importer plugin, on a Granite-shaped
    config (the example's config.json): its counts equal transformers' GraniteForCausalLM's (meta device)."""
    plugin = ROOT / "examples" / "granite-importer" / "granite.py"
    assert json.loads((plugin.parent / "config.json").read_text()) == GRANITE
    # acct's builtin granite importer (hf_granite) is disabled so that the example's takes the model_type
    status, out, err = cli("run", str(write(tmp_path, GRANITE)), "-p", str(plugin), "--disable", "hf_granite", "-f",
                           "json", "--set", "context_length=64")
    assert status == 0, err
    totals = json.loads(out)["totals"]
    # 49,155·2,048 tied embedding + 40 × (attention 2·2048² + 2·2048·512, SwiGLU 3·2048·8,192, norms 2·2048) + 2,048
    assert totals["params"] == 49_155 * 2048 + 40 * (2 * 2048 ** 2 + 2 * 2048 * 512 + 3 * 2048 * 8192 + 2 * 2048) + 2048
    if importlib.util.find_spec("transformers") is not None:
        assert (totals["params"], totals["flops_forward"]) == hf_counts("granite", GRANITE, "meta")
    data = dict(GRANITE, mlp_bias=True)
    err = refused(cli, "run", str(write(tmp_path, data, "biased.json")), "-p", str(plugin), "--disable", "hf_granite")
    assert "model_type 'granite': mlp_bias = true changes the architecture" in err


@pytest.mark.parametrize("name, extra, expected", [
    # qwen2: layers from max_window_layers on slide
    ("qwen2-0.5b", {"use_sliding_window": True, "sliding_window": 4096, "max_window_layers": 20},
     ["local_layers = 4  # use_sliding_window = true, max_window_layers = 20", "sliding_window = 4096"]),
    # qwen2_moe: even layers below max_window_layers slide (0, 2, ..., 20)
    ("qwen1.5-moe-a2.7b", {"use_sliding_window": True},
     ["local_layers = 11  # use_sliding_window = true, max_window_layers = 21"]),
    # layer_types, when given, says which
    ("gemma-2-2b", {"layer_types": ["sliding_attention"] * 20 + ["full_attention"] * 6},
     ["local_layers = 20  # layer_types"]),
    # qwen2_moe: MoE where (i + 1) % decoder_sparse_step == 0 and i not in mlp_only_layers
    ("qwen1.5-moe-a2.7b", {"decoder_sparse_step": 2, "mlp_only_layers": [1]},
     ["moe_layers = 11  # decoder_sparse_step = 2, mlp_only_layers = [1]: 11 of 24 layers",
      "d_ff = 5632  # intermediate_size (the dense layers' MLP)"]),
    ("deepseek-v2-lite", {}, ["moe_layers = 26  # num_hidden_layers - first_k_dense_replace = 27 - 1",
                              "num_shared_experts = 2", 'qkv = "mla"  # q_lora_rank = null']),
    ("falcon-7b-instruct", {"new_decoder_architecture": True, "num_attention_heads": 64, "hidden_size": 4096,
                            "num_kv_heads": 8},
     ["num_kv_heads = 8  # new_decoder_architecture = true: num_kv_heads",
      "# norms_per_block = 2 (parallel_attn = true, num_ln_in_parallel_attn (absent: 2) = 2) is the default"]),
])
def test_layer_rules(cli, tmp_path, name, extra, expected):
    status, out, err = cli("import", str(write(tmp_path, dict(config(name), **extra))))
    assert status == 0, err
    for line in expected:
        assert line in out, out
