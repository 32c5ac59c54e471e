#!/usr/bin/env python3
"""Writes config.json and hf_quant_config.json of Qwen3.6-27B for `warden model bench --synthetic` into DIR.

The config is built from ../shared/docs/model.md §1.1–1.3 (the values of Qwen/Qwen3.6-27B's config.json); the
quantisation is the NVIDIA layout of §5.4 (MLP and lm_head W4A16_NVFP4, attention and the big GDN projections FP8,
the rest BF16, FP8 KV cache), or --layout bf16 for no quantisation. No weights: the benchmark makes them.
Usage: qwen3_6_27b_config.py DIR [--layout nvidia|bf16]
"""
import json
import os
import sys


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    layout = "bf16" if "--layout=bf16" in sys.argv or ("--layout" in sys.argv and "bf16" in sys.argv) else "nvidia"
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = args[0]
    os.makedirs(out, exist_ok=True)
    layers = 64
    layer_types = ["full_attention" if (i + 1) % 4 == 0 else "linear_attention" for i in range(layers)]
    text = {
        "model_type": "qwen3_5_text", "vocab_size": 248320, "hidden_size": 5120, "intermediate_size": 17408,
        "num_hidden_layers": layers, "layer_types": layer_types, "full_attention_interval": 4,
        "num_attention_heads": 24, "num_key_value_heads": 4, "head_dim": 256, "attention_bias": False,
        "partial_rotary_factor": 0.25,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000000.0, "partial_rotary_factor": 0.25,
                            "mrope_section": [11, 11, 10], "mrope_interleaved": True},
        "linear_num_key_heads": 16, "linear_num_value_heads": 48, "linear_key_head_dim": 128,
        "linear_value_head_dim": 128, "linear_conv_kernel_dim": 4, "mamba_ssm_dtype": "float32",
        "hidden_act": "silu", "rms_norm_eps": 1e-6, "max_position_embeddings": 262144,
        "mtp_num_hidden_layers": 1, "tie_word_embeddings": False, "dtype": "bfloat16",
    }
    vision = {
        "model_type": "qwen3_5_vision", "depth": 27, "hidden_size": 1152, "num_heads": 16, "intermediate_size": 4304,
        "hidden_act": "gelu_pytorch_tanh", "in_channels": 3, "patch_size": 16, "temporal_patch_size": 2,
        "spatial_merge_size": 2, "out_hidden_size": 5120, "num_position_embeddings": 2304,
        "rope_parameters": {"rope_type": "axial", "rope_theta": 10000.0},
    }
    config = {
        "architectures": ["Qwen3_5ForConditionalGeneration"], "model_type": "qwen3_5", "dtype": "bfloat16",
        "text_config": text, "vision_config": vision, "tie_word_embeddings": False,
        "image_token_id": 248056, "video_token_id": 248057, "vision_start_token_id": 248053,
        "vision_end_token_id": 248054,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    quant_path = os.path.join(out, "hf_quant_config.json")
    if layout == "bf16":
        if os.path.exists(quant_path):
            os.remove(quant_path)
        return 0
    p = "model.language_model.layers."
    q = {"lm_head": {"quant_algo": "W4A16_NVFP4", "group_size": 16}}
    for i, kind in enumerate(layer_types):
        for m in ("gate_proj", "up_proj", "down_proj"):
            q[f"{p}{i}.mlp.{m}"] = {"quant_algo": "W4A16_NVFP4", "group_size": 16}
        names = ("q_proj", "k_proj", "v_proj", "o_proj") if kind == "full_attention" else (
            "in_proj_qkv", "in_proj_z", "out_proj")
        block = "self_attn" if kind == "full_attention" else "linear_attn"
        for m in names:
            q[f"{p}{i}.{block}.{m}"] = {"quant_algo": "FP8"}
    hf = {"producer": {"name": "modelopt", "version": "0.45.0"},
          "quantization": {"quant_algo": "MIXED_PRECISION", "kv_cache_quant_algo": "FP8", "quantized_layers": q}}
    with open(quant_path, "w") as f:
        json.dump(hf, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
